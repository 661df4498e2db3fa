import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seededRandom, standardNormal } from "../random.ts";
import { aurocFromHistogram } from "./auroc.ts";
import { aurocInterval, hanleyMcNeilVariance } from "./auroc-interval.ts";
import { countPredictions } from "./count-predictions.ts";
import { Interval } from "./interval.ts";

/** `draws` binormal samples of P positives N(√2, 1) and N negatives N(0, 1): true AUROC Φ(1). */
function coverage(positives: number, negatives: number, seed: number, draws = 400): number {
  const truth = 0.8413447460685429;
  const rng = seededRandom(seed);
  const labels = new Uint8Array(positives + negatives).fill(1, 0, positives);
  let covered = 0;
  for (let draw = 0; draw < draws; draw++) {
    const scores = new Float64Array(positives + negatives);
    for (let i = 0; i < scores.length; i++) scores[i] = 1 / (1 + Math.exp(-(standardNormal(rng) + (labels[i] ? Math.SQRT2 : 0))));
    const counts = countPredictions(scores, labels);
    const [lo, hi] = aurocInterval(counts.pos, counts.neg) as Interval;
    if (lo <= truth && truth <= hi) covered += 1;
  }
  return covered / draws;
}

describe("aurocInterval", () => {
  it("builds DeLong's interval on the logit scale", () => {
    // Prepare: positives place at 0.4 (2) and 0.9 (8), negatives the same way round: AUROC 0.8,
    // S10 = S01 = (2 · 0.4² + 8 · 0.1²) / 9, variance 2/225; logit 0.8 ± 1.959964 · √(2/225) / 0.16.
    const pos = [2, 8];
    const neg = [8, 2];

    // Execute
    const interval = aurocInterval(pos, neg);

    // Assert
    expect(interval?.[0]).toBeCloseTo(0.557587, 6);
    expect(interval?.[1]).toBeCloseTo(0.926981, 6);
  });

  it("gives a perfect AUROC on 3 rows a wide interval, not [1, 1]", () => {
    // Prepare: two positives above one negative.
    const pos = [0, 0, 2];
    const neg = [1, 0, 0];

    // Execute
    const interval = aurocInterval(pos, neg);

    // Assert: one disjoint pair, so only θ ≥ 0.025 keeps the result above 2.5 %.
    expect(aurocFromHistogram(pos, neg)).toBe(1);
    expect(interval).toEqual([expect.closeTo(0.025, 12), 1]);
  });

  it("bounds a perfect or inverted separation exactly from min(P, N)", () => {
    // Prepare: three positives and four negatives, separated.
    const low = [4, 0, 0, 0];
    const high = [0, 0, 1, 2];

    // Execute
    const perfect = aurocInterval(high, low);
    const inverted = aurocInterval(low, high);

    // Assert: 0.025^(1/3) = 0.292402
    expect(perfect).toEqual([expect.closeTo(0.292402, 6), 1]);
    expect(inverted).toEqual([0, expect.closeTo(1 - 0.292402, 6)]);
  });

  it("falls back to Hanley and McNeil's variance when every score shares one bin", () => {
    // Prepare: DeLong's placements are all ½, so its variance is 0; Hanley–McNeil's at ½ with 3 and 5 is 0.05.
    const pos = [0, 3, 0];
    const neg = [0, 5, 0];

    // Execute
    const interval = aurocInterval(pos, neg);

    // Assert: logit 0 ± 1.959964 · √0.05 / 0.25
    expect(hanleyMcNeilVariance(0.5, 3, 5)).toBeCloseTo(0.05, 12);
    expect(interval?.[0]).toBeCloseTo(0.147664, 6);
    expect(interval?.[1]).toBeCloseTo(0.852336, 6);
  });

  it("falls back to Hanley and McNeil with one positive, and claims no more than a perfect separation could", () => {
    // Prepare: one positive above four of five negatives, AUROC 0.8; Hanley–McNeil's variance
    // (0.16 + 4 · (2 · 0.64 / 1.8 − 0.64)) / 5 = 0.0889 puts the logit interval at [0.094, 0.994].
    const pos = [0, 0, 1, 0];
    const neg = [4, 0, 0, 1];

    // Execute
    const interval = aurocInterval(pos, neg);

    // Assert: a single pair proves no more than θ ≥ 0.025, so neither does this.
    expect(hanleyMcNeilVariance(0.8, 1, 5)).toBeCloseTo(0.08888889, 8);
    expect(interval?.[0]).toBeCloseTo(0.025, 12);
    expect(interval?.[1]).toBeCloseTo(0.993558, 6);
  });

  it("is null when a class is absent", () => {
    // Execute
    const noPositives = aurocInterval([0, 0], [2, 1]);
    const noNegatives = aurocInterval([1, 3], [0, 0]);

    // Assert
    expect([noPositives, noNegatives]).toEqual([null, null]);
  });

  it("holds the AUROC within [0, 1] for any histograms with both classes", () => {
    // Prepare
    const histograms = fc.integer({ min: 2, max: 6 }).chain((bins) => {
      const histogram = fc.array(fc.integer({ min: 0, max: 20 }), { minLength: bins, maxLength: bins });
      return fc.tuple(histogram, histogram);
    });

    // Execute / Assert
    fc.assert(
      fc.property(histograms, ([pos, neg]) => {
        const auroc = aurocFromHistogram(pos, neg);
        const interval = aurocInterval(pos, neg);
        expect(interval === null).toBe(auroc === null);
        if (auroc === null) return;
        expect(Interval.safeParse(interval).success).toBe(true);
        expect(interval?.[0]).toBeLessThanOrEqual(auroc);
        expect(interval?.[1]).toBeGreaterThanOrEqual(auroc);
      }),
    );
  });

  it("covers the true AUROC in about 95 % of 400 seeded draws of 40 positives and 40 negatives", () => {
    // Execute
    const rate = coverage(40, 40, 1988);

    // Assert
    expect(rate).toBeGreaterThanOrEqual(0.9);
    expect(rate).toBeLessThanOrEqual(0.99);
  });

  it("does not under-cover with 5 positives and 5 negatives", () => {
    // Execute
    const rate = coverage(5, 5, 1982);

    // Assert
    expect(rate).toBeGreaterThanOrEqual(0.9);
  });
});
