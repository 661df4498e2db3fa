/** Mann–Whitney U over binned scores, AUROC = U / (P·N) (Mann & Whitney 1947; Hanley & McNeil 1982). */
import { MetricsError } from "./metrics-error.ts";

/**
 * Probability that a random positive scores above a random negative, from per-class histograms
 * over the same bins; a positive and a negative in the same bin count as a tie (half credit).
 * `null` when either class is absent. O(bins).
 *
 * @example
 * aurocFromHistogram([0, 1, 1], [1, 1, 0]); // (1 + 0.5 + 1 + 1) / 4 = 0.875
 */
export function aurocFromHistogram(pos: ArrayLike<number>, neg: ArrayLike<number>): number | null {
  if (pos.length !== neg.length) {
    throw new MetricsError("BINS_MISMATCH", `pos has ${pos.length} bins but neg has ${neg.length}`);
  }
  let u = 0;
  let positives = 0;
  let negativesBelow = 0;
  for (let i = 0; i < pos.length; i++) {
    const p = pos[i]!;
    const q = neg[i]!;
    u += p * (negativesBelow + q / 2);
    positives += p;
    negativesBelow += q;
  }
  if (positives === 0 || negativesBelow === 0) return null;
  // With counts near 2^53 the rounding of u and of the product can put the ratio a hair past [0, 1].
  return Math.min(1, Math.max(0, u / (positives * negativesBelow)));
}
