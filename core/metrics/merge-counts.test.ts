import { describe, expect, it } from "vitest";
import { aurocFromHistogram } from "./auroc.ts";
import { countPredictions } from "./count-predictions.ts";
import { EvalCounts } from "./eval-counts.ts";
import { mergeCounts } from "./merge-counts.ts";

/** Pairwise Mann–Whitney on raw scores, the definition the histogram form must reproduce. */
function rawAuroc(scores: readonly number[], labels: readonly number[]): number {
  let credit = 0;
  let pairs = 0;
  scores.forEach((p, i) => {
    if (labels[i] !== 1) return;
    scores.forEach((q, j) => {
      if (labels[j] !== 0) return;
      pairs += 1;
      credit += p > q ? 1 : p === q ? 0.5 : 0;
    });
  });
  return credit / pairs;
}

// Scores sit at centres of 10 bins, so two scores tie exactly when they share a bin.
const siteA = { scores: [0.85, 0.95, 0.65, 0.65, 0.35, 0.75], labels: [1, 1, 1, 0, 0, 0] };
const siteB = { scores: [0.45, 0.25, 0.15, 0.05, 0.25, 0.45, 0.95], labels: [1, 1, 0, 0, 0, 0, 0] };
const count = (site: { scores: number[]; labels: number[] }) =>
  countPredictions(new Float64Array(site.scores), new Uint8Array(site.labels), 10);

describe("mergeCounts", () => {
  it("sums every count", () => {
    // Prepare
    const a = { n: 3, tp: 1, fp: 1, tn: 1, fn: 0, pos: [0, 1], neg: [1, 1] };
    const b = { n: 2, tp: 0, fp: 0, tn: 1, fn: 1, pos: [1, 0], neg: [1, 0] };

    // Execute
    const merged = mergeCounts([a, b]);

    // Assert
    expect(merged).toEqual({ n: 5, tp: 1, fp: 1, tn: 2, fn: 1, pos: [1, 1], neg: [2, 1] });
    expect(EvalCounts.safeParse(merged).success).toBe(true);
  });

  it("gives the AUROC of the concatenated raw scores", () => {
    // Prepare
    const all = { scores: [...siteA.scores, ...siteB.scores], labels: [...siteA.labels, ...siteB.labels] };

    // Execute
    const merged = mergeCounts([count(siteA), count(siteB)]);

    // Assert
    expect(merged).toEqual(count(all));
    expect(aurocFromHistogram(merged.pos, merged.neg)).toBeCloseTo(rawAuroc(all.scores, all.labels), 12);
    // Credit per positive: 0.95 → 7.5, 0.85 → 7, 0.65 → 5.5, 0.45 → 4.5, 0.25 → 2.5, over 5·8 pairs.
    expect(rawAuroc(all.scores, all.labels)).toBeCloseTo(27 / 40, 12);
  });

  it("differs from the average of site AUROCs when sites are calibrated differently", () => {
    // Prepare: each site ranks perfectly, but site B scores everything lower.
    const a = count({ scores: [0.95, 0.85, 0.75, 0.65], labels: [1, 1, 0, 0] });
    const b = count({ scores: [0.35, 0.25, 0.15, 0.05], labels: [1, 1, 0, 0] });

    // Execute
    const merged = mergeCounts([a, b]);
    const pooled = aurocFromHistogram(merged.pos, merged.neg);
    const sites = [aurocFromHistogram(a.pos, a.neg), aurocFromHistogram(b.pos, b.neg)];

    // Assert
    expect(sites).toEqual([1, 1]);
    expect(pooled).toBeCloseTo(12 / 16, 12);
  });

  it("pools a single-class site that has no AUROC of its own", () => {
    // Prepare
    const onlyNegatives = count({ scores: [0.55, 0.05], labels: [0, 0] });
    const mixed = count({ scores: [0.35, 0.15], labels: [1, 0] });

    // Execute
    const merged = mergeCounts([onlyNegatives, mixed]);

    // Assert
    expect(aurocFromHistogram(onlyNegatives.pos, onlyNegatives.neg)).toBeNull();
    expect(aurocFromHistogram(merged.pos, merged.neg)).toBeCloseTo(2 / 3, 12);
  });

  it("rejects an empty list", () => {
    // Execute / Assert
    expect(() => mergeCounts([])).toThrow(
      expect.objectContaining({ code: "NO_COUNTS", message: "cannot merge an empty list of counts" }),
    );
  });

  it("rejects counts with different bins", () => {
    // Prepare
    const two = { n: 0, tp: 0, fp: 0, tn: 0, fn: 0, pos: [0, 0], neg: [0, 0] };
    const three = { n: 0, tp: 0, fp: 0, tn: 0, fn: 0, pos: [0, 0, 0], neg: [0, 0, 0] };

    // Execute / Assert
    expect(() => mergeCounts([two, two, three])).toThrow(
      expect.objectContaining({ code: "BINS_MISMATCH", message: "counts[2] has 3 bins but counts[0] has 2" }),
    );
  });
});
