import { describe, expect, it } from "vitest";
import { clinicalMetrics } from "../metrics/clinical-metrics.ts";
import { countPredictions } from "../metrics/count-predictions.ts";
import { evaluateCounts, ModelEvaluation } from "./model-evaluation.ts";

// Positives at 0.15, 0.35, 0.65, 0.85; negatives at 0.05, 0.15, 0.45, in 10 bins.
const counts = () => countPredictions(new Float64Array([0.15, 0.35, 0.65, 0.85, 0.05, 0.15, 0.45]), new Uint8Array([1, 1, 1, 1, 0, 0, 0]), 10);

describe("evaluateCounts", () => {
  it("agrees with clinicalMetrics at 0.5 and adds Brier score and calibration", () => {
    // Prepare
    const c = counts();
    const metrics = clinicalMetrics(c);

    // Execute
    const evaluation = evaluateCounts(c);

    // Assert: every score is a bin centre, so Brier is exact: positives 0.85² + 0.65² + 0.35² + 0.15²,
    // negatives 0.05² + 0.15² + 0.45², 1.5175 over 7 rows.
    expect(evaluation).toMatchObject({
      n: 7,
      prevalence: 4 / 7,
      auroc: metrics.auroc,
      aurocInterval: metrics.intervals.auroc,
      threshold: 0.5,
      sensitivity: 0.5,
      specificity: 1,
      brier: expect.closeTo(1.5175 / 7, 12),
    });
    expect(evaluation.calibration.bins.reduce((a, g) => a + g.n, 0)).toBe(7);
    expect(ModelEvaluation.safeParse(evaluation).success).toBe(true);
  });

  it("reads sensitivity and specificity at the operating threshold", () => {
    // Execute
    const evaluation = evaluateCounts(counts(), 0.3);

    // Assert
    expect(evaluation).toMatchObject({ threshold: 0.3, sensitivity: 0.75, specificity: 2 / 3 });
  });

  it("gives null rates without rows", () => {
    // Execute
    const evaluation = evaluateCounts({ n: 0, tp: 0, fp: 0, tn: 0, fn: 0, pos: [0, 0], neg: [0, 0] });

    // Assert
    expect(evaluation).toEqual({
      n: 0, prevalence: null, auroc: null, aurocInterval: null, threshold: 0.5,
      sensitivity: null, specificity: null, brier: null, calibration: { ece: null, bins: [] },
    });
    expect(ModelEvaluation.safeParse(evaluation).success).toBe(true);
  });
});
