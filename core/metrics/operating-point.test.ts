import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { rocCurve } from "./roc.ts";
import { chooseThreshold, OperatingPointRule, ratesAt } from "./operating-point.ts";

/** Ten bins: positives high, negatives low, overlapping in the middle. */
const pos = [0, 0, 0, 1, 1, 2, 2, 3, 5, 6];
const neg = [6, 5, 4, 3, 2, 1, 1, 0, 0, 0];

describe("the operating point", () => {
  it("gives sensitivity, specificity, PPV and NPV at a bin edge exactly from the histograms", () => {
    // At 0.5: tp = 2+2+3+5+6 = 18 of 20 positives; fp = 1+1 = 2 of 22 negatives.
    const r = ratesAt(pos, neg, 0.5);
    expect(r).toMatchObject({ threshold: 0.5, n: 42, sensitivity: 18 / 20, specificity: 20 / 22, ppv: 18 / 20, npv: 20 / 22 });
    expect(r.intervals.sensitivity![0]).toBeLessThan(0.9);
    expect(r.intervals.sensitivity![1]).toBeGreaterThan(0.9);
    // Off an edge it is moved down to the edge below; 0 calls everything positive, 1 nothing.
    expect(ratesAt(pos, neg, 0.55).threshold).toBe(0.5);
    expect(ratesAt(pos, neg, 0)).toMatchObject({ sensitivity: 1, specificity: 0, npv: null });
    expect(ratesAt(pos, neg, 1)).toMatchObject({ sensitivity: 0, specificity: 1, ppv: null });
  });

  it("chooses by Youden's J, a target sensitivity or a target specificity", () => {
    // J by edge (sens + spec − 1): e=5 → 18/20 + 20/22 − 1 = 0.809 … e=4 → 19/20 + 18/22 − 1 = 0.768; e=6 → 16/20 + 21/22 − 1 = 0.755.
    expect(chooseThreshold(pos, neg, { rule: "youden" })).toBe(0.5);
    // The most specific threshold catching at least 95 % of positives: e=4 (19/20).
    expect(chooseThreshold(pos, neg, { rule: "sensitivity", target: 0.95 })).toBe(0.4);
    // The most sensitive threshold with specificity at least 0.99: e=7 (22/22); 0.9 allows e=5 (20/22 = 0.909).
    expect(chooseThreshold(pos, neg, { rule: "specificity", target: 0.99 })).toBe(0.7);
    expect(chooseThreshold(pos, neg, { rule: "specificity", target: 0.9 })).toBe(0.5);
    expect(chooseThreshold([0, 0, 3], [0, 0, 0], { rule: "youden" })).toBeNull();
    expect(OperatingPointRule.safeParse({ rule: "sensitivity", target: 1 }).success).toBe(false);
    expect(OperatingPointRule.safeParse({ rule: "sensitivity" }).success).toBe(false);
  });

  it("picks, on any histograms, the threshold the ROC curve says is best, and meets a target it can meet", () => {
    const hist = fc.array(fc.nat(20), { minLength: 4, maxLength: 40 });
    fc.assert(
      fc.property(hist, hist, fc.double({ min: 0.05, max: 0.95, noNaN: true }), (p0, n0, target) => {
        const bins = Math.min(p0.length, n0.length);
        const p = p0.slice(0, bins);
        const n = n0.slice(0, bins);
        const curve = rocCurve(p, n);
        const t = chooseThreshold(p, n, { rule: "youden" });
        if (curve === null) return t === null;
        // The curve's points at edges 1 … bins−1 (threshold i/bins), against the one chosen.
        const inner = curve.filter((q) => q.threshold > 0 && q.threshold < 1);
        const bestJ = Math.max(...inner.map((q) => q.tpr - q.fpr));
        const at = ratesAt(p, n, t!);
        expect(at.sensitivity! + at.specificity! - 1).toBeCloseTo(bestJ, 9);
        const s = chooseThreshold(p, n, { rule: "sensitivity", target });
        const reachable = inner.some((q) => q.tpr >= target);
        expect(s !== null).toBe(reachable);
        if (s !== null) {
          expect(ratesAt(p, n, s).sensitivity).toBeGreaterThanOrEqual(target);
          // No higher edge meets it.
          if (s + 1 / bins < 1 - 1e-9) expect(ratesAt(p, n, s + 1 / bins).sensitivity!).toBeLessThan(target);
        }
        const c = chooseThreshold(p, n, { rule: "specificity", target });
        expect(c !== null).toBe(inner.some((q) => 1 - q.fpr >= target - 1e-12));
        if (c !== null) {
          expect(ratesAt(p, n, c).specificity).toBeGreaterThanOrEqual(target);
          // No lower edge meets it.
          if (c - 1 / bins > 1e-9) expect(ratesAt(p, n, c - 1 / bins).specificity!).toBeLessThan(target);
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
