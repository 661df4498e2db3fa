import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { brierScore, Calibration, calibration, calibrationGroups, expectedCalibrationError, hosmerLemeshow } from "./calibration.ts";
import { countPredictions } from "./count-predictions.ts";

/** `rows` scores of `score`, the first `positives` of them labelled 1. */
const constant = (score: number, rows: number, positives: number, bins: number) =>
  countPredictions(new Float64Array(rows).fill(score), new Uint8Array(rows).fill(1, 0, positives), bins);

const histograms = fc
  .integer({ min: 2, max: 40 })
  .chain((bins) => fc.tuple(fc.array(fc.nat(50), { minLength: bins, maxLength: bins }), fc.array(fc.nat(50), { minLength: bins, maxLength: bins })));

describe("brierScore", () => {
  it("scores each row at its bin's centre", () => {
    // Prepare: two bins, centres 0.25 and 0.75; every row is 0.25 from its label.
    const pos = [0, 3];
    const neg = [7, 0];

    // Execute / Assert
    expect(brierScore(pos, neg)?.brier).toBeCloseTo(0.0625, 15);
  });

  it("matches a hand computation, bound included", () => {
    // Prepare: 20 rows in bin 1 of 4 (scores 0.25–0.5, centre 0.375), 15 of them positive.
    const pos = [0, 15, 0, 0];
    const neg = [0, 5, 0, 0];

    // Execute
    const b = brierScore(pos, neg);

    // Assert: (15 · 0.625² + 5 · 0.375²) / 20 = 0.328125, bounded by
    // (15 · 0.25 · (1 − 0.25) + 5 · 0.25 · 0.5) / 20 − 0.25² / 4 = 0.171875 − 0.015625 = 0.15625.
    expect(b?.brier).toBeCloseTo(0.328125, 12);
    expect(b?.bound).toBeCloseTo(0.15625, 12);
  });

  it("is 0.25 for a model that always says 0.5, whatever the prevalence", () => {
    // Prepare: with 11 bins 0.5 is a bin's centre; with 1000 it sits half a bin below one.
    const odd = constant(0.5, 1000, 300, 11);
    const even = constant(0.5, 1000, 300, 1000);

    // Execute
    const b = brierScore(even.pos, even.neg)!;

    // Assert
    expect(brierScore(odd.pos, odd.neg)?.brier).toBeCloseTo(0.25, 15);
    expect(Math.abs(b.brier - 0.25)).toBeLessThanOrEqual(b.bound);
    expect(b.bound).toBeLessThanOrEqual(1 / 1000 - 1 / 4e6);
  });

  it("is null without rows and refuses histograms of different bins", () => {
    // Execute / Assert
    expect(brierScore([0, 0], [0, 0])).toBeNull();
    expect(() => brierScore([1, 0], [0, 0, 1])).toThrow("pos has 2 bins but neg has 3");
  });

  it("stays within its bound of the exact scores' Brier score, the bound within w − w²/4, the score in [0, 1]", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean()), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 2, max: 100 }),
        (rows, bins) => {
          // Prepare
          const scores = new Float64Array(rows.map(([s]) => s));
          const labels = new Uint8Array(rows.map(([, y]) => (y ? 1 : 0)));
          const exact = rows.reduce((sum, [s, y]) => sum + (s - (y ? 1 : 0)) ** 2, 0) / rows.length;
          const c = countPredictions(scores, labels, bins);

          // Execute
          const b = brierScore(c.pos, c.neg)!;

          // Assert
          const w = 1 / bins;
          expect(Math.abs(b.brier - exact)).toBeLessThanOrEqual(b.bound + 1e-12);
          expect(b.bound).toBeLessThanOrEqual(w - w ** 2 / 4 + 1e-12);
          expect(b.brier).toBeGreaterThanOrEqual(0);
          expect(b.brier).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});

describe("calibrationGroups: { groups }", () => {
  it("joins adjacent bins into groups of about n / groups rows", () => {
    // Prepare: 10 rows in 4 bins (centres 0.125 … 0.875), two groups of 6 and 4 rows.
    const pos = [0, 1, 0, 3];
    const neg = [3, 2, 1, 0];

    // Execute
    const curve = calibration(pos, neg, { groups: 2 });

    // Assert: |0.25 − 1/6| · 6/10 + |0.8125 − 0.75| · 4/10 = 0.05 + 0.025.
    expect(curve.bins).toEqual([
      { lo: 0, hi: 0.5, predicted: 0.25, observed: expect.closeTo(1 / 6, 15), n: 6 },
      { lo: 0.5, hi: 1, predicted: 0.8125, observed: 0.75, n: 4 },
    ]);
    expect(curve.ece).toBeCloseTo(0.075, 15);
  });

  it("never splits a bin: a crowded bin makes one larger group and fewer groups", () => {
    // Prepare: 90 of 100 rows score in the lowest of 10 bins.
    const pos = [9, 0, 0, 0, 0, 0, 0, 0, 0, 10];
    const neg = [81, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    // Execute
    const curve = calibration(pos, neg, { groups: 10 });

    // Assert
    expect(curve.bins).toEqual([
      { lo: 0, hi: 0.1, predicted: 0.05, observed: 0.1, n: 90 },
      { lo: 0.1, hi: 1, predicted: 0.95, observed: 1, n: 10 },
    ]);
    expect(curve.ece).toBeCloseTo(0.9 * 0.05 + 0.1 * 0.05, 15);
  });

  it("gives a perfectly calibrated histogram an ECE of 0, within half a bin of the exact scores' ECE", () => {
    // Prepare: 100 rows per bin of 10, scores 0.01 above each bin's floor, and 10i + 5 positives in
    // bin i, so each bin's observed rate is its centre but the exact scores sit 0.04 below it.
    const bins = 10;
    const scores: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < bins; i++) {
      for (let k = 0; k < 100; k++) {
        scores.push(i / bins + 0.01);
        labels.push(k < 10 * i + 5 ? 1 : 0);
      }
    }
    const c = countPredictions(new Float64Array(scores), new Uint8Array(labels), bins);

    // Execute
    const curve = calibration(c.pos, c.neg, { groups: 10 });

    // Assert: one group per bin; the exact scores' ECE over the same groups is 0.04.
    expect(curve.bins).toHaveLength(10);
    expect(curve.ece).toBeCloseTo(0, 12);
    expect(Math.abs(curve.ece! - 0.04)).toBeLessThanOrEqual(1 / (2 * bins));
  });

  it("measures a model that always says 0.5 on 30 % positives as 0.2 off", () => {
    // Prepare
    const c = constant(0.5, 1000, 300, 11);

    // Execute
    const curve = calibration(c.pos, c.neg, { groups: 10 });

    // Assert
    expect(curve).toEqual({ ece: expect.closeTo(0.2, 15), bins: [{ lo: 0, hi: 1, predicted: 0.5, observed: 0.3, n: 1000 }] });
  });

  it("keeps the ECE in [0, 1], the groups' rows summing to n, and at most `groups` groups", () => {
    fc.assert(
      fc.property(histograms, fc.integer({ min: 1, max: 20 }), ([pos, neg], groups) => {
        // Execute
        const curve = calibration(pos, neg, { groups });

        // Assert
        const n = [...pos, ...neg].reduce((a, b) => a + b, 0);
        expect(curve.bins.reduce((a, g) => a + g.n, 0)).toBe(n);
        expect(curve.bins.length).toBeLessThanOrEqual(groups);
        if (n === 0) return;
        expect(curve.ece).toBeGreaterThanOrEqual(0);
        expect(curve.ece).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe("calibrationGroups: { minRows }", () => {
  it("gives 0 for risks that come true exactly as often as predicted", () => {
    // Prepare: 10 bins of 100 rows; bin i (centre 0.05 + 0.1·i) holds 5 + 10·i positives.
    const pos = Array.from({ length: 10 }, (_, i) => 5 + 10 * i);
    const neg = pos.map((p) => 100 - p);

    // Execute
    const groups = calibrationGroups(pos, neg, { minRows: 200 });

    // Assert: grouped in pairs of bins, each group's observed rate is its mean centre.
    expect(groups.map((g) => g.n)).toEqual([200, 200, 200, 200, 200]);
    expect(expectedCalibrationError(groups)).toBeCloseTo(0, 12);
    expect(hosmerLemeshow(groups)).toBeCloseTo(0, 12);
  });

  it("matches a hand computation for a miscalibrated model", () => {
    // Prepare: 20 rows in bin 1 of 4 (scores 0.25–0.5, centre 0.375), 15 of them positive.
    const pos = [0, 15, 0, 0];
    const neg = [0, 5, 0, 0];

    // Execute
    const groups = calibrationGroups(pos, neg, { minRows: 10 });

    // Assert: ECE |0.75 − 0.375| = 0.375; HL 20 · 0.375² / (0.375 · 0.625) = 12.
    expect(groups).toEqual([{ lo: 0, hi: 1, n: 20, predicted: 0.375, observed: 0.75 }]);
    expect(expectedCalibrationError(groups)).toBeCloseTo(0.375, 12);
    expect(hosmerLemeshow(groups)).toBeCloseTo(12, 12);
  });

  it("groups bins until each has enough rows, a short last group joining the one before", () => {
    // Execute: rows per bin 10, 10, 10, 2, 0, 0; the 2 left over join the third group, which runs to 1.
    const groups = calibrationGroups([5, 0, 5, 1, 0, 0], [5, 10, 5, 1, 0, 0], { minRows: 10 });

    // Assert
    expect(groups.map((g) => [g.lo, g.hi, g.n])).toEqual([
      [0, 1 / 6, 10],
      [1 / 6, 2 / 6, 10],
      [2 / 6, 1, 12],
    ]);
  });

  it("holds at least `minRows` rows in every group but a lone one, rows summing to n", () => {
    fc.assert(
      fc.property(histograms, fc.integer({ min: 1, max: 200 }), ([pos, neg], minRows) => {
        // Execute
        const groups = calibrationGroups(pos, neg, { minRows });

        // Assert
        const n = [...pos, ...neg].reduce((a, b) => a + b, 0);
        expect(groups.reduce((a, g) => a + g.n, 0)).toBe(n);
        if (groups.length > 1) expect(Math.min(...groups.map((g) => g.n))).toBeGreaterThanOrEqual(minRows);
      }),
    );
  });
});

describe("calibrationGroups", () => {
  it("tiles [0, 1] with groups in score order, under either rule", () => {
    fc.assert(
      fc.property(histograms, fc.integer({ min: 1, max: 60 }), fc.boolean(), ([pos, neg], k, equalCount) => {
        // Execute
        const groups = calibrationGroups(pos, neg, equalCount ? { groups: k } : { minRows: k });

        // Assert
        if (groups.length === 0) return;
        expect(groups[0]?.lo).toBe(0);
        expect(groups.at(-1)?.hi).toBe(1);
        groups.slice(1).forEach((g, j) => expect(g.lo).toBe(groups[j]?.hi));
        expect(Calibration.safeParse({ ece: expectedCalibrationError(groups), bins: groups }).success).toBe(true);
      }),
    );
  });

  it("has nothing to say without rows", () => {
    // Execute / Assert
    expect(calibration([0, 0], [0, 0], { groups: 10 })).toEqual({ ece: null, bins: [] });
    expect(calibrationGroups([0, 0], [0, 0], { minRows: 50 })).toEqual([]);
    expect(expectedCalibrationError([])).toBeNull();
    expect(hosmerLemeshow([])).toBeNull();
  });

  it("refuses mismatched bins and a group count or row minimum that is not a positive integer", () => {
    // Execute / Assert
    expect(() => calibrationGroups([1, 2], [1, 2, 3], { minRows: 50 })).toThrow("pos has 2 bins but neg has 3");
    expect(() => calibration([1, 0], [0, 1], { groups: 0 })).toThrow("groups must be a positive integer, got 0");
    expect(() => calibration([1, 0], [0, 1], { minRows: 2.5 })).toThrow("minRows must be a positive integer, got 2.5");
  });
});

describe("Calibration", () => {
  it("parses what calibration returns and refuses a rate above 1", () => {
    // Prepare
    const c = calibration([0, 1, 0, 3], [3, 2, 1, 0], { groups: 2 });

    // Execute / Assert
    expect(Calibration.parse(c)).toEqual(c);
    expect(Calibration.safeParse({ ece: 1.5, bins: [] }).success).toBe(false);
  });
});
