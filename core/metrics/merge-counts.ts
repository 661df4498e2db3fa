import type { EvalCounts } from "./eval-counts.ts";
import { MetricsError } from "./metrics-error.ts";

/**
 * Pools counts from several sites into the counts of their concatenated data, so metrics computed
 * from the result are the pooled metrics, not an average of site metrics.
 *
 * @example
 * const pooled = clinicalMetrics(mergeCounts([siteA, siteB]));
 */
export function mergeCounts(list: readonly EvalCounts[]): EvalCounts {
  const first = list[0];
  if (first === undefined) throw new MetricsError("NO_COUNTS", "cannot merge an empty list of counts");
  const bins = first.pos.length;
  const merged: EvalCounts = {
    n: 0, tp: 0, fp: 0, tn: 0, fn: 0,
    pos: new Array<number>(bins).fill(0),
    neg: new Array<number>(bins).fill(0),
  };
  list.forEach((c, k) => {
    if (c.pos.length !== bins || c.neg.length !== bins) {
      throw new MetricsError("BINS_MISMATCH", `counts[${k}] has ${c.pos.length} bins but counts[0] has ${bins}`);
    }
    merged.n += c.n;
    merged.tp += c.tp;
    merged.fp += c.fp;
    merged.tn += c.tn;
    merged.fn += c.fn;
    for (let i = 0; i < bins; i++) {
      merged.pos[i]! += c.pos[i]!;
      merged.neg[i]! += c.neg[i]!;
    }
  });
  return merged;
}
