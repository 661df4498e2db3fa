import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { delongVariance } from "./delong-variance.ts";

/** DeLong's variance straight from its definition, over every positive–negative pair: O(P·N). */
function pairwiseDelong(positives: readonly number[], negatives: readonly number[]): number {
  const psi = (x: number, y: number) => (x > y ? 1 : x === y ? 0.5 : 0);
  const v10 = positives.map((x) => negatives.reduce((s, y) => s + psi(x, y), 0) / negatives.length);
  const v01 = negatives.map((y) => positives.reduce((s, x) => s + psi(x, y), 0) / positives.length);
  const auc = v10.reduce((a, b) => a + b, 0) / v10.length;
  const s10 = v10.reduce((s, v) => s + (v - auc) ** 2, 0) / (v10.length - 1);
  const s01 = v01.reduce((s, v) => s + (v - auc) ** 2, 0) / (v01.length - 1);
  return s10 / positives.length + s01 / negatives.length;
}

/** Histograms with one bin per distinct score, so the bins lose nothing and tie exactly where scores do. */
function histograms(positives: readonly number[], negatives: readonly number[]): [number[], number[]] {
  const levels = [...new Set([...positives, ...negatives])].sort((a, b) => a - b);
  const count = (xs: readonly number[]) => levels.map((l) => xs.filter((x) => x === l).length);
  return [count(positives), count(negatives)];
}

describe("delongVariance", () => {
  it("matches a hand computation", () => {
    // Prepare: both classes place at 0.75 and 1 about the AUROC 0.875, so S10 = S01 = 2 · 0.125² / 1.
    const pos = [0, 1, 1];
    const neg = [1, 1, 0];

    // Execute
    const variance = delongVariance(pos, neg);

    // Assert: S10 / 2 + S01 / 2
    expect(variance).toBeCloseTo(0.03125, 12);
  });

  it("equals the pairwise computation on unbinned scores with ties within and across classes", () => {
    // Prepare
    const positives = [0.9, 0.8, 0.8, 0.55, 0.3, 0.7];
    const negatives = [0.8, 0.4, 0.3, 0.3, 0.1, 0.55, 0.2];
    const [pos, neg] = histograms(positives, negatives);

    // Execute
    const variance = delongVariance(pos, neg);

    // Assert
    expect(variance).toBeCloseTo(pairwiseDelong(positives, negatives), 12);
    expect(variance).toBeGreaterThan(0);
  });

  it("equals the pairwise computation for any scores on a coarse grid", () => {
    // Prepare: scores 0..5 tie often.
    const scores = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 2, maxLength: 30 });

    // Execute / Assert
    fc.assert(
      fc.property(scores, scores, (positives, negatives) => {
        const [pos, neg] = histograms(positives, negatives);
        expect(delongVariance(pos, neg)).toBeCloseTo(pairwiseDelong(positives, negatives), 12);
      }),
    );
  });

  it("is null with fewer than two positives or two negatives", () => {
    // Execute
    const onePositive = delongVariance([0, 1, 0], [2, 0, 3]);
    const oneNegative = delongVariance([0, 2, 4], [1, 0, 0]);

    // Assert
    expect([onePositive, oneNegative]).toEqual([null, null]);
  });

  it("rejects histograms with different bins", () => {
    // Prepare
    const call = () => delongVariance([1, 1, 0], [1, 1]);

    // Execute / Assert
    expect(call).toThrow(expect.objectContaining({ code: "BINS_MISMATCH", message: "pos has 3 bins but neg has 2" }));
  });
});
