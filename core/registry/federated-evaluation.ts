import { z } from "zod";
import { CONFUSION_THRESHOLD, type EvalCounts } from "../metrics/eval-counts.ts";
import { mergeCounts } from "../metrics/merge-counts.ts";
import { evaluateCounts, ModelEvaluation } from "./model-evaluation.ts";

/** A site's counts by its id, as the sites report them on their held-out rows. */
export type SiteCounts = Readonly<Record<string, EvalCounts>>;

/**
 * A model evaluated at every site and on the pooled rows (the counts summed, never the site
 * metrics averaged); sites in id order.
 *
 * @example
 * const { pooled, sites } = FederatedEvaluation.parse(card.evaluation);
 */
export const FederatedEvaluation = z.object({
  pooled: ModelEvaluation,
  sites: z
    .array(ModelEvaluation.extend({ siteId: z.string().min(1) }))
    .refine((s) => new Set(s.map((e) => e.siteId)).size === s.length, { message: "site ids must be unique" }),
});
export type FederatedEvaluation = z.infer<typeof FederatedEvaluation>;

/**
 * Evaluates one model at each site and pooled. Every site's histograms must have the same bins
 * (`SubmittedCounts` fixes them), or `mergeCounts` throws; at least one site is needed.
 *
 * @example
 * const evaluation = federatedEvaluation({ "site-a": a, "site-b": b });
 */
export function federatedEvaluation(sites: SiteCounts, threshold: number = CONFUSION_THRESHOLD): FederatedEvaluation {
  const ids = Object.keys(sites).sort();
  return {
    pooled: evaluateCounts(mergeCounts(ids.map((id) => sites[id]!)), threshold),
    sites: ids.map((siteId) => ({ siteId, ...evaluateCounts(sites[siteId]!, threshold) })),
  };
}
