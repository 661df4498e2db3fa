import { describe, expect, it } from "vitest";
import { aurocInterval } from "./auroc-interval.ts";
import { ClinicalMetrics, clinicalMetrics } from "./clinical-metrics.ts";
import { wilsonInterval } from "./wilson-interval.ts";

describe("clinicalMetrics", () => {
  it("computes rates from the confusion counts and AUROC from the histogram", () => {
    // Prepare: bin 0 is below 0.5, bin 1 at or above.
    const counts = { n: 10, tp: 3, fp: 1, tn: 4, fn: 2, pos: [2, 3], neg: [4, 1] };

    // Execute
    const m = clinicalMetrics(counts);

    // Assert
    expect(m.n).toBe(10);
    expect(m.prevalence).toBeCloseTo(0.5, 12);
    expect(m.accuracy).toBeCloseTo(0.7, 12);
    expect(m.sensitivity).toBeCloseTo(0.6, 12);
    expect(m.specificity).toBeCloseTo(0.8, 12);
    // U = 2·(0 + 4/2) + 3·(4 + 1/2) = 17.5 over 25 pairs.
    expect(m.auroc).toBeCloseTo(0.7, 12);
    expect(ClinicalMetrics.safeParse(m).success).toBe(true);
  });

  it("gives each rate the 95 % interval of its own numerator and denominator", () => {
    // Prepare
    const counts = { n: 10, tp: 3, fp: 1, tn: 4, fn: 2, pos: [2, 3], neg: [4, 1] };

    // Execute
    const m = clinicalMetrics(counts);

    // Assert: accuracy 7/10, sensitivity 3/5, specificity 4/5.
    expect(m.intervals).toEqual({
      accuracy: wilsonInterval(7, 10),
      sensitivity: wilsonInterval(3, 5),
      specificity: wilsonInterval(4, 5),
      auroc: aurocInterval([2, 3], [4, 1]),
    });
    expect(m.intervals.accuracy?.[0]).toBeCloseTo(0.3968, 4);
    expect(m.intervals.accuracy?.[1]).toBeCloseTo(0.8922, 4);
  });

  it("does not print a perfect score on 3 rows as certain", () => {
    // Prepare: two positives above one negative, all classified right.
    const counts = { n: 3, tp: 2, fp: 0, tn: 1, fn: 0, pos: [0, 2], neg: [1, 0] };

    // Execute
    const m = clinicalMetrics(counts);

    // Assert
    expect([m.accuracy, m.auroc]).toEqual([1, 1]);
    expect(m.intervals.accuracy?.[0]).toBeLessThan(0.5);
    expect(m.intervals.auroc?.[0]).toBeLessThan(0.5);
  });

  it("leaves sensitivity and AUROC undefined without positives", () => {
    // Prepare
    const counts = { n: 4, tp: 0, fp: 1, tn: 3, fn: 0, pos: [0, 0], neg: [3, 1] };

    // Execute
    const m = clinicalMetrics(counts);

    // Assert
    expect(m).toEqual({
      n: 4, prevalence: 0, accuracy: 0.75, sensitivity: null, specificity: 0.75, auroc: null,
      intervals: { accuracy: wilsonInterval(3, 4), sensitivity: null, specificity: wilsonInterval(3, 4), auroc: null },
    });
  });

  it("leaves every rate undefined for an empty dataset", () => {
    // Prepare
    const counts = { n: 0, tp: 0, fp: 0, tn: 0, fn: 0, pos: [0, 0], neg: [0, 0] };

    // Execute
    const m = clinicalMetrics(counts);

    // Assert
    expect(m).toEqual({
      n: 0, prevalence: null, accuracy: null, sensitivity: null, specificity: null, auroc: null,
      intervals: { accuracy: null, sensitivity: null, specificity: null, auroc: null },
    });
  });

  it("has a schema that reads metrics stored before intervals", () => {
    // Prepare
    const stored = { n: 4, prevalence: 0.5, accuracy: 0.75, sensitivity: 0.5, specificity: 1, auroc: 0.75 };

    // Execute
    const result = ClinicalMetrics.safeParse(stored);

    // Assert
    expect(result).toEqual({ success: true, data: stored });
  });

  it("has a schema that rejects an interval that is reversed or leaves [0, 1]", () => {
    // Prepare
    const intervals = { accuracy: [0.9, 0.6], sensitivity: [0.2, 1.5], specificity: null, auroc: null };
    const report = { n: 4, prevalence: 0.5, accuracy: 0.75, sensitivity: 0.5, specificity: 1, auroc: null, intervals };

    // Execute
    const result = ClinicalMetrics.safeParse(report);

    // Assert
    expect(result.error?.issues.map((i) => [i.path, i.message])).toEqual([
      [["intervals", "accuracy"], "lo must not exceed hi"],
      [["intervals", "sensitivity", 1], "Too big: expected number to be <=1"],
    ]);
  });

  it("has a schema that rejects a rate outside [0, 1]", () => {
    // Prepare
    const report = { n: 4, prevalence: 1.5, accuracy: null, sensitivity: null, specificity: null, auroc: null };

    // Execute
    const result = ClinicalMetrics.safeParse(report);

    // Assert
    expect(result.error?.issues.map((i) => [i.path, i.message])).toEqual([
      [["prevalence"], "Too big: expected number to be <=1"],
    ]);
  });
});
