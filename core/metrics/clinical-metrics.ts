/** Prevalence, accuracy, sensitivity and specificity from a 2×2 table (Altman & Bland 1994). */
import { z } from "zod";
import { aurocFromHistogram } from "./auroc.ts";
import { aurocInterval } from "./auroc-interval.ts";
import type { EvalCounts } from "./eval-counts.ts";
import { Interval } from "./interval.ts";
import { wilsonInterval } from "./wilson-interval.ts";

const Rate = z.number().min(0).max(1).nullable();

/**
 * 95 % intervals of the rates, `null` where the rate is: Wilson score intervals for accuracy,
 * sensitivity and specificity, DeLong's on the logit scale for AUROC (`aurocInterval`).
 *
 * @example
 * const [lo, hi] = metrics.intervals?.auroc ?? [0, 1];
 */
export const MetricIntervals = z.object({
  accuracy: Interval.nullable(),
  sensitivity: Interval.nullable(),
  specificity: Interval.nullable(),
  auroc: Interval.nullable(),
});
export type MetricIntervals = z.infer<typeof MetricIntervals>;

/**
 * Metrics of one model on one (possibly pooled) dataset; a rate is `null` when it is undefined,
 * e.g. sensitivity without positives or AUROC with a single class. `intervals` is absent from
 * metrics served by coordinators older than it.
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
  intervals: MetricIntervals.optional(),
});
export type ClinicalMetrics = z.infer<typeof ClinicalMetrics>;

const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

/**
 * Computes clinical metrics and their intervals exactly from counts; pass `mergeCounts(sites)`
 * for pooled metrics (their intervals then treat every pooled row as independent of the others).
 *
 * @example
 * clinicalMetrics(countPredictions(scores, labels)).intervals.sensitivity;
 */
export function clinicalMetrics(c: EvalCounts): ClinicalMetrics & { intervals: MetricIntervals } {
  const positives = c.tp + c.fn;
  const negatives = c.tn + c.fp;
  return {
    n: c.n,
    prevalence: ratio(positives, c.n),
    accuracy: ratio(c.tp + c.tn, c.n),
    sensitivity: ratio(c.tp, positives),
    specificity: ratio(c.tn, negatives),
    auroc: aurocFromHistogram(c.pos, c.neg),
    intervals: {
      accuracy: wilsonInterval(c.tp + c.tn, c.n),
      sensitivity: wilsonInterval(c.tp, positives),
      specificity: wilsonInterval(c.tn, negatives),
      auroc: aurocInterval(c.pos, c.neg),
    },
  };
}
