/**
 * @module
 * Helpers for the report tests: evaluation counts with hand-checkable metrics, and a run report
 * whose figures a test overrides where it needs to.
 */
import { countPredictions } from "../../core/metrics/count-predictions.ts";
import type { EvalCounts } from "../../core/metrics/eval-counts.ts";
import type { RunReport } from "../../core/schemas/report.ts";

/** Counts over 4 score bins ([0, .25), [.25, .5), [.5, .75), [.75, 1]) at threshold 0.5. */
export function countsOf(positives: number[], negatives: number[]): EvalCounts {
  const scores = new Float64Array([...positives, ...negatives]);
  const labels = new Uint8Array([...positives.map(() => 1), ...negatives.map(() => 0)]);
  return countPredictions(scores, labels, 4);
}

const pooled = (auroc: number | null) => ({ accuracy: 0.5, auroc, sensitivity: 0.5, specificity: 0.5 });

export function runReport(seed: number, patch: Partial<RunReport> = {}): RunReport {
  const acc = { global: 0.8, personalized: 0.85, local: 0.7, centralized: 0.9 };
  return {
    seed,
    malicious: [],
    aggregation: "plain",
    wallSeconds: 10,
    sites: [
      { id: "a-1", name: "Alpha", trainRows: 100, testRows: 20, accuracy: acc },
      { id: "b-1", name: "Beta", trainRows: 50, testRows: 10, accuracy: acc },
    ],
    meanSiteAccuracy: acc,
    pooled: { global: pooled(0.8), personalized: pooled(0.8), local: pooled(0.8), centralized: pooled(0.8) },
    rounds: [
      { round: 1, status: "closed", sites: 2, auroc: 0.6, bytesUp: 100, bytesDown: 400 },
      { round: 2, status: "closed", sites: 2, auroc: 0.7, bytesUp: 100, bytesDown: 400 },
    ],
    bytes: { up: 200, down: 800 },
    rejections: 0,
    ...patch,
  };
}
