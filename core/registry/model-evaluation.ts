import { z } from "zod";
import { aurocFromHistogram } from "../metrics/auroc.ts";
import { aurocInterval } from "../metrics/auroc-interval.ts";
import { brierScore, Calibration, calibration, CALIBRATION_GROUPS } from "../metrics/calibration.ts";
import { CONFUSION_THRESHOLD, type EvalCounts } from "../metrics/eval-counts.ts";
import { Interval } from "../metrics/interval.ts";
import { ratesAtThreshold } from "./rates-at-threshold.ts";

const Rate = z.number().min(0).max(1).nullable();

/**
 * One model on one (possibly pooled) set of held-out rows, from counts only: AUROC with its 95 %
 * DeLong interval, sensitivity and specificity at the operating `threshold`, Brier score and
 * calibration at bin centres (`core/metrics/calibration.ts` bounds their error), the latter over
 * equal-count deciles so that cards of any size draw comparable curves. A rate is `null` where it
 * is undefined (no rows, or one class).
 *
 * @example
 * const pooled = ModelEvaluation.parse(card.evaluation.pooled);
 */
export const ModelEvaluation = z.object({
  n: z.int().nonnegative(),
  prevalence: Rate,
  auroc: Rate,
  aurocInterval: Interval.nullable(),
  threshold: z.number().gt(0).lt(1),
  sensitivity: Rate,
  specificity: Rate,
  brier: Rate,
  calibration: Calibration,
});
export type ModelEvaluation = z.infer<typeof ModelEvaluation>;

/**
 * Evaluates one model from its counts; pass `mergeCounts(sites)` for the pooled evaluation.
 *
 * @example
 * evaluateCounts(mergeCounts(Object.values(perSite)), 0.5).auroc;
 */
export function evaluateCounts(c: EvalCounts, threshold: number = CONFUSION_THRESHOLD): ModelEvaluation {
  const positives = c.tp + c.fn;
  return {
    n: c.n,
    prevalence: c.n === 0 ? null : positives / c.n,
    auroc: aurocFromHistogram(c.pos, c.neg),
    aurocInterval: aurocInterval(c.pos, c.neg),
    threshold,
    ...ratesAtThreshold(c, threshold),
    brier: brierScore(c.pos, c.neg)?.brier ?? null,
    calibration: calibration(c.pos, c.neg, { groups: CALIBRATION_GROUPS }),
  };
}
