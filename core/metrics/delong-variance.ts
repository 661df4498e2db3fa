/** DeLong's variance of the AUROC from placement values (DeLong, DeLong & Clarke-Pearson 1988). */
import { aurocFromHistogram } from "./auroc.ts";
import { MetricsError } from "./metrics-error.ts";

/**
 * DeLong's variance of the Mann–Whitney AUROC, computed exactly from per-class histograms in
 * O(bins): a positive in bin i places at V10 = (negatives below + negatives in bin i / 2) / N, a
 * negative in bin j at V01 = (positives above + positives in bin j / 2) / P, and the variance is
 * S10 / P + S01 / N with S the sample variances of the placements. A bin is a tie, as in
 * `aurocFromHistogram`. `null` below two positives or two negatives, where a sample variance is
 * undefined.
 *
 * @example
 * delongVariance([0, 1, 1], [1, 1, 0]); // 0.03125: each class places at 0.75 and 1, about 0.875
 */
export function delongVariance(pos: ArrayLike<number>, neg: ArrayLike<number>): number | null {
  if (pos.length !== neg.length) {
    throw new MetricsError("BINS_MISMATCH", `pos has ${pos.length} bins but neg has ${neg.length}`);
  }
  let positives = 0;
  let negatives = 0;
  for (let i = 0; i < pos.length; i++) {
    positives += pos[i]!;
    negatives += neg[i]!;
  }
  if (positives < 2 || negatives < 2) return null;
  // The mean placement of either class is the AUROC itself.
  const auroc = aurocFromHistogram(pos, neg) as number;
  let s10 = 0;
  let below = 0;
  for (let i = 0; i < pos.length; i++) {
    const q = neg[i]!;
    s10 += pos[i]! * ((below + q / 2) / negatives - auroc) ** 2;
    below += q;
  }
  let s01 = 0;
  let above = 0;
  for (let j = pos.length - 1; j >= 0; j--) {
    const p = pos[j]!;
    s01 += neg[j]! * ((above + p / 2) / positives - auroc) ** 2;
    above += p;
  }
  return s10 / ((positives - 1) * positives) + s01 / ((negatives - 1) * negatives);
}
