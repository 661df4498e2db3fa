/**
 * @module
 * Performance drift from evaluation counts: the champion's AUROC and calibration on the rows its
 * training data came from against the same on a site's newly labelled rows.
 */
import { aurocFromHistogram } from "../metrics/auroc.ts";
import { aurocInterval } from "../metrics/auroc-interval.ts";
import { brierScore, calibration, type CalibrationGroup, hosmerLemeshow } from "../metrics/calibration.ts";
import { delongVariance } from "../metrics/delong-variance.ts";
import type { EvalCounts } from "../metrics/eval-counts.ts";
import { Z95, type Interval } from "../metrics/interval.ts";
import { chiSquareQuantile } from "./chi-square.ts";
import type { DriftFlag } from "./drift-flag.ts";
import type { DriftPolicy } from "./policy.ts";
import { num, pct } from "./format.ts";

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const ci = ([lo, hi]: Interval) => `95% CI ${lo.toFixed(2)}–${hi.toFixed(2)}`;

/** DeLong's standard error; where it is undefined or 0, the half-width of the 95 % interval (Hanley & McNeil, or the exact bound at 0 and 1). */
function standardError(c: EvalCounts, interval: Interval): number {
  const v = delongVariance(c.pos, c.neg);
  return v !== null && v > 0 ? Math.sqrt(v) : (interval[1] - interval[0]) / (2 * Z95);
}

/**
 * The AUROC fell by at least `policy.aurocDrop` and by `policy.z` standard errors of the
 * difference, √(SE²ref + SE²now): the windows hold different patients, so DeLong's paired
 * covariance term is 0.
 */
function aurocFlag(reference: EvalCounts, current: EvalCounts, policy: DriftPolicy, siteId: string): DriftFlag | null {
  const before = aurocFromHistogram(reference.pos, reference.neg);
  const after = aurocFromHistogram(current.pos, current.neg);
  const beforeCi = aurocInterval(reference.pos, reference.neg);
  const afterCi = aurocInterval(current.pos, current.neg);
  if (before === null || after === null || beforeCi === null || afterCi === null) return null;
  const drop = before - after;
  const z = drop / Math.hypot(standardError(reference, beforeCi), standardError(current, afterCi));
  if (drop < policy.aurocDrop || !(z >= policy.z)) return null;
  const rows = `${current.n} newly labelled rows (${sum(current.pos)} positive)`;
  return {
    siteId,
    check: "auroc",
    score: drop,
    severity: "act",
    reason: `${siteId}: the champion's AUROC fell from ${before.toFixed(2)} (${ci(beforeCi)}) on its training data to ${after.toFixed(2)} (${ci(afterCi)}) on ${rows}: a drop of ${drop.toFixed(2)}, ${z.toFixed(1)} standard errors`,
  };
}

/** The group that adds most to the expected calibration error. */
function worst(groups: readonly CalibrationGroup[]) {
  return groups.reduce((w, g) => (g.n * Math.abs(g.observed - g.predicted) > w.n * Math.abs(w.observed - w.predicted) ? g : w));
}

/**
 * The expected calibration error rose by at least `policy.eceRise` and the current window is
 * miscalibrated beyond noise: its Hosmer–Lemeshow statistic above χ² (one degree per group) at
 * the quantile of `policy.z`. Groups of at least `policy.calibrationRows` rows rather than a fixed
 * number: a month's window may be small, and the χ² reading needs enough rows in every group.
 */
function calibrationFlag(reference: EvalCounts, current: EvalCounts, policy: DriftPolicy, siteId: string): DriftFlag | null {
  const grouping = { minRows: policy.calibrationRows };
  const before = calibration(reference.pos, reference.neg, grouping);
  const after = calibration(current.pos, current.neg, grouping);
  const hl = hosmerLemeshow(after.bins);
  const brierBefore = brierScore(reference.pos, reference.neg);
  const brierAfter = brierScore(current.pos, current.neg);
  if (before.ece === null || after.ece === null || hl === null || brierBefore === null || brierAfter === null) return null;
  const rise = after.ece - before.ece;
  const noise = chiSquareQuantile(after.bins.length, policy.z);
  if (rise < policy.eceRise || hl <= noise) return null;
  const w = worst(after.bins);
  const brier = `Brier ${brierAfter.brier.toFixed(3)} against ${brierBefore.brier.toFixed(3)} (±${num(Math.max(brierAfter.bound, brierBefore.bound))} from binning)`;
  return {
    siteId,
    check: "calibration",
    score: rise,
    severity: "act",
    reason:
      `${siteId}: the champion's calibration error (ECE) rose from ${before.ece.toFixed(3)} on its training data to ${after.ece.toFixed(3)} on ${current.n} newly labelled rows ` +
      `(Hosmer–Lemeshow ${hl.toFixed(1)} over ${after.bins.length} groups, noise reaches ${noise.toFixed(1)}); ` +
      `worst at scores ${w.lo.toFixed(2)}–${w.hi.toFixed(2)}: ${pct(w.predicted)} predicted, ${pct(w.observed)} observed in ${w.n} rows; ${brier}`,
  };
}

/**
 * Flags for the champion's performance at one site: `reference` its counts on the rows of its
 * training window (held out there), `current` on the site's newly labelled rows.
 *
 * @example
 * performanceFlags(atTraining, thisMonth, driftPolicy(), "site-4");
 * // [{ check: "auroc", score: 0.13, reason: "site-4: the champion's AUROC fell from 0.84 (95% CI 0.81–0.87) …" }]
 */
export function performanceFlags(reference: EvalCounts, current: EvalCounts, policy: DriftPolicy, siteId: string): DriftFlag[] {
  return [aurocFlag(reference, current, policy, siteId), calibrationFlag(reference, current, policy, siteId)].filter((f) => f !== null);
}
