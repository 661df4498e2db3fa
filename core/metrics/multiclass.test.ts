import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { countMulticlass, mergeMulticlass, MulticlassCounts, multiclassMetrics } from "./multiclass.ts";

/** One-vs-rest AUROC by every pair of (class row, other row), a tie in the histogram's bin counting half. */
function pairwiseAuroc(probs: number[], labels: number[], k: number, cls: number, bins: number): number | null {
  const bin = (p: number) => Math.min(bins - 1, Math.floor(p * bins));
  const mine = labels.flatMap((l, r) => (l === cls ? [bin(probs[r * k + cls]!)] : []));
  const others = labels.flatMap((l, r) => (l !== cls ? [bin(probs[r * k + cls]!)] : []));
  if (mine.length === 0 || others.length === 0) return null;
  let u = 0;
  for (const a of mine) for (const b of others) u += a > b ? 1 : a === b ? 0.5 : 0;
  return u / (mine.length * others.length);
}

describe("multiclass counts and metrics", () => {
  it("counts a confusion matrix by the most probable class and each class's histograms, and gives the metrics from them", () => {
    // Three classes, four rows: class 0 right, class 2 right, class 1 taken for 0, class 0 right.
    const probs = [0.7, 0.2, 0.1, 0.1, 0.1, 0.8, 0.5, 0.4, 0.1, 0.6, 0.3, 0.1];
    const labels = [0, 2, 1, 0];
    const c = countMulticlass(probs, labels, 3, 10);
    expect(MulticlassCounts.safeParse(c).success).toBe(true);
    expect(c.confusion).toEqual([[2, 0, 0], [1, 0, 0], [0, 0, 1]]);
    const m = multiclassMetrics(c);
    expect(m.accuracy).toBe(3 / 4);
    expect(m.classes.map((x) => [x.prevalence, x.sensitivity, x.specificity])).toEqual([[2 / 4, 1, 1 / 2], [1 / 4, 0, 1], [1 / 4, 1, 1]]);
    // Class 1's probability: 0.4 for its row against 0.2, 0.1, 0.3: ranked first, AUROC 1.
    expect(m.classes[1]!.auroc).toBe(1);
    expect(m.macroAuroc).toBeCloseTo((m.classes[0]!.auroc! + 1 + m.classes[2]!.auroc!) / 3, 12);
  });

  it("gives one-vs-rest AUROC as the pairwise comparison does, pools by adding, and refuses what does not add up", () => {
    const rows = fc.integer({ min: 1, max: 30 });
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }), rows, rows, fc.integer({ min: 1, max: 2 ** 31 }), (k, n1, n2, seed) => {
        let s = seed;
        const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
        const draw = (n: number) => {
          const labels = Array.from({ length: n }, () => Math.floor(next() * k));
          const probs = labels.flatMap(() => {
            const raw = Array.from({ length: k }, () => next());
            const sum = raw.reduce((a, b) => a + b, 0);
            return raw.map((v) => v / sum);
          });
          return { labels, probs };
        };
        const a = draw(n1);
        const b = draw(n2);
        const pooled = mergeMulticlass([countMulticlass(a.probs, a.labels, k, 20), countMulticlass(b.probs, b.labels, k, 20)]);
        expect(pooled).toEqual(countMulticlass([...a.probs, ...b.probs], [...a.labels, ...b.labels], k, 20));
        const m = multiclassMetrics(pooled);
        for (let cls = 0; cls < k; cls++) {
          const expected = pairwiseAuroc([...a.probs, ...b.probs], [...a.labels, ...b.labels], k, cls, 20);
          if (expected === null) expect(m.classes[cls]!.auroc).toBeNull();
          else expect(m.classes[cls]!.auroc).toBeCloseTo(expected, 12);
        }
        return MulticlassCounts.safeParse(pooled).success;
      }),
      { numRuns: 100 },
    );
    const c = countMulticlass([0.9, 0.1, 0.2, 0.8], [0, 1], 2, 10);
    expect(MulticlassCounts.safeParse({ ...c, n: 3 }).success).toBe(false);
    expect(MulticlassCounts.safeParse({ ...c, confusion: [[1, 0], [0, 0]] }).success).toBe(false);
    expect(() => countMulticlass([0.9, Number.NaN], [0], 2)).toThrow(/not a number in \[0, 1\]/);
    expect(() => countMulticlass([0.9, 0.1], [2], 2)).toThrow(/not a class of 2/);
    expect(() => mergeMulticlass([c, countMulticlass([0.5, 0.3, 0.2], [0], 3, 10)])).toThrow(/cannot be merged/);
  });
});
