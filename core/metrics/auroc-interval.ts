/**
 * 95 % AUROC interval: DeLong's variance (DeLong, DeLong & Clarke-Pearson 1988) on the logit
 * scale, Hanley & McNeil's (1982) variance where DeLong's is undefined, an exact bound at 0 and 1.
 */
import { aurocFromHistogram } from "./auroc.ts";
import { delongVariance } from "./delong-variance.ts";
import { covering, HALF_ALPHA, Z95, type Interval } from "./interval.ts";

/**
 * Hanley & McNeil's variance of an AUROC `a` from `positives` and `negatives`, which assumes
 * exponential score distributions; positive for every `a` strictly between 0 and 1.
 *
 * @example
 * hanleyMcNeilVariance(0.8, 1, 5); // ≈ 0.0889
 */
export function hanleyMcNeilVariance(a: number, positives: number, negatives: number): number {
  const q1 = a / (2 - a);
  const q2 = (2 * a * a) / (1 + a);
  return (a * (1 - a) + (positives - 1) * (q1 - a * a) + (negatives - 1) * (q2 - a * a)) / (positives * negatives);
}

/**
 * 95 % interval for the AUROC of per-class histograms over the same bins; `null` when a class is
 * absent. On the logit scale, so it stays inside (0, 1), with DeLong's variance, or Hanley &
 * McNeil's where DeLong's is undefined (one positive or one negative) or 0 (one shared bin).
 * At AUROC 1 the bound is exact and distribution-free: m = min(P, N) disjoint pairs make a perfect
 * separation at most θ^m likely, so [0.025^(1/m), 1]; 0 mirrors it. No other result on the same
 * counts claims more: every interval reaches down to 0.025^(1/m) and up to 1 − 0.025^(1/m).
 * Why, and how it covers: docs/concepts.md, "Clinical metrics".
 *
 * @example
 * aurocInterval([0, 0, 2], [1, 0, 0]); // [0.025, 1]: perfect, but one negative
 */
export function aurocInterval(pos: ArrayLike<number>, neg: ArrayLike<number>): Interval | null {
  const a = aurocFromHistogram(pos, neg);
  if (a === null) return null;
  let positives = 0;
  let negatives = 0;
  for (let i = 0; i < pos.length; i++) {
    positives += pos[i]!;
    negatives += neg[i]!;
  }
  const edge = HALF_ALPHA ** (1 / Math.min(positives, negatives));
  if (a === 1) return [edge, 1];
  if (a === 0) return [0, 1 - edge];
  const delong = delongVariance(pos, neg);
  const variance = delong !== null && delong > 0 ? delong : hanleyMcNeilVariance(a, positives, negatives);
  const logit = Math.log(a / (1 - a));
  const spread = (Z95 * Math.sqrt(variance)) / (a * (1 - a));
  const expit = (x: number) => 1 / (1 + Math.exp(-x));
  return covering(Math.min(expit(logit - spread), edge), Math.max(expit(logit + spread), 1 - edge), a);
}
