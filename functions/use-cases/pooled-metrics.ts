import { ClinicalMetrics, clinicalMetrics, DEFAULT_BINS, mergeCounts } from "../../core/metrics/index.ts";
import type { EvalCounts } from "../../core/metrics/eval-counts.ts";
import type { Logger } from "../ports.ts";

/** Sites submit DEFAULT_BINS bins; counts stored before that rule cannot be pooled and are left out. */
export const poolable = (c: EvalCounts): boolean => c.pos.length === DEFAULT_BINS && c.neg.length === DEFAULT_BINS;

/**
 * The metrics of the pooled counts, checked against their schema before they are served: a rate
 * that floating point puts an ulp past 1 (an AUROC of huge counts) is reported and passed over
 * (null), never a status its readers cannot parse. Null too when nothing can be pooled.
 */
export function pooledMetrics(counts: readonly EvalCounts[], logger: Logger, what: string): ClinicalMetrics | null {
  const usable = counts.filter(poolable);
  if (usable.length === 0) return null;
  const metrics = ClinicalMetrics.safeParse(clinicalMetrics(mergeCounts(usable)));
  if (metrics.success) return metrics.data;
  logger.error("pooled metrics outside their range passed over", { what, issues: metrics.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) });
  return null;
}
