/** Prevalence, accuracy, sensitivity and specificity from a 2×2 table (Altman & Bland 1994). */
import { z } from "zod";
import { aurocFromHistogram } from "./auroc.ts";
import type { EvalCounts } from "./eval-counts.ts";

const Rate = z.number().min(0).max(1).nullable();

/**
 * Metrics of one model on one (possibly pooled) dataset; a rate is `null` when it is undefined,
 * e.g. sensitivity without positives or AUROC with a single class.
 *
 * @example
 * const report = ClinicalMetrics.parse(JSON.parse(text));
 */
export const ClinicalMetrics = z.object({
  n: z.int().nonnegative(),
  prevalence: Rate,
  accuracy: Rate,
  sensitivity: Rate,
  specificity: Rate,
  auroc: Rate,
});
export type ClinicalMetrics = z.infer<typeof ClinicalMetrics>;

const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

/**
 * Computes clinical metrics exactly from counts; pass `mergeCounts(sites)` for pooled metrics.
 *
 * @example
 * clinicalMetrics(countPredictions(scores, labels)).sensitivity;
 */
export function clinicalMetrics(c: EvalCounts): ClinicalMetrics {
  const positives = c.tp + c.fn;
  return {
    n: c.n,
    prevalence: ratio(positives, c.n),
    accuracy: ratio(c.tp + c.tn, c.n),
    sensitivity: ratio(c.tp, positives),
    specificity: ratio(c.tn, c.tn + c.fp),
    auroc: aurocFromHistogram(c.pos, c.neg),
  };
}
