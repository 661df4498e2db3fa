import { describe, expect, it } from "vitest";
import { countPredictions } from "../core/metrics/count-predictions.ts";
import type { SiteEvaluation } from "../core/schemas/task.ts";
import { evaluationLines } from "./evaluation-lines.ts";

// Four positives then six negatives, scored by each model in the default 1000 bins.
const labels = new Uint8Array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
const counts = (scores: number[]) => countPredictions(new Float64Array(scores), labels);

const evaluation = (): SiteEvaluation => ({
  modelVersion: 2,
  trainRows: 31,
  testRows: 10,
  global: counts([0.9, 0.8, 0.7, 0.3, 0.1, 0.2, 0.6, 0.4, 0.05, 0.15]),
  personalized: counts([0.9, 0.8, 0.7, 0.6, 0.1, 0.2, 0.3, 0.4, 0.05, 0.15]),
  local: counts(new Array<number>(10).fill(0.2)),
});

describe("evaluationLines", () => {
  it("prints each model's figures with their 95 % intervals", () => {
    // Execute
    const lines = evaluationLines(evaluation());

    // Assert: Wilson 8/10 is [0.490, 0.943], printed outwards; a perfect AUROC with 4 positives
    // is bounded below by 0.025^(1/4) = 0.398, and so is every AUROC on these counts.
    expect(lines).toEqual([
      "evaluation of model v2 on 10 test rows (trained on 31):",
      "  global        accuracy 0.800 (0.49–0.95)  AUROC 0.917 (0.39–1.00)  sensitivity 0.750 (0.30–0.96)  specificity 0.833 (0.43–0.97)",
      "  personalized  accuracy 1.000 (0.72–1.00)  AUROC 1.000 (0.39–1.00)  sensitivity 1.000 (0.51–1.00)  specificity 1.000 (0.60–1.00)",
      "  local only    accuracy 0.600 (0.31–0.84)  AUROC 0.500 (0.17–0.83)  sensitivity 0.000 (0.00–0.49)  specificity 1.000 (0.60–1.00)",
      "  (lo–hi): 95 % interval over these 10 test rows (Wilson; DeLong on the logit scale for AUROC)",
    ]);
  });

  it("prints a dash, and no interval, for a figure the test rows cannot define", () => {
    // Prepare: test rows without a positive have no sensitivity and no AUROC.
    const negatives = countPredictions(new Float64Array([0.1, 0.7, 0.3]), new Uint8Array([0, 0, 0]));
    const ev = { ...evaluation(), testRows: 3, global: negatives, personalized: negatives, local: negatives };

    // Execute
    const lines = evaluationLines(ev);

    // Assert: Wilson 2/3 is [0.208, 0.939].
    expect(lines[1]).toBe("  global        accuracy 0.667 (0.20–0.94)  AUROC —  sensitivity —  specificity 0.667 (0.20–0.94)");
  });
});
