/**
 * @module
 * Calibration from per-class score histograms (`EvalCounts.pos` / `neg`, equal bins over [0, 1]),
 * each score read at its bin's centre: the Brier score (Brier 1950) with what that reading can
 * cost, groups of adjacent bins, and over them the expected calibration error (Naeini, Cooper &
 * Hauskrecht 2015; over equal-count groups, Nixon et al. 2019) and the Hosmer–Lemeshow statistic
 * (Hosmer & Lemeshow 1980).
 */
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { MetricsError } from "./metrics-error.ts";

/** Equal-count groups for a model card's curve: deciles of the rows ranked by score. */
export const CALIBRATION_GROUPS = 10;
/** Fewest rows per group for drift checks: enough for a group's observed rate and its χ² term to mean something. */
export const DEFAULT_CALIBRATION_ROWS = 50;

const Rate = z.number().min(0).max(1);

/** Adjacent bins covering scores [lo, hi]: their `n` rows' mean score (bin centres) and share of positives. */
export const CalibrationGroup = z.object({ lo: Rate, hi: Rate, n: z.int().positive(), predicted: Rate, observed: Rate });
export type CalibrationGroup = z.infer<typeof CalibrationGroup>;

/**
 * The calibration of one model on one dataset: its ECE (`null` without rows) and its groups in
 * score order, as a model card stores them.
 *
 * @example
 * const { ece, bins } = Calibration.parse(card.evaluation.pooled.calibration);
 */
export const Calibration = z.object({ ece: Rate.nullable(), bins: z.array(CalibrationGroup) });
export type Calibration = z.infer<typeof Calibration>;

/**
 * How adjacent bins are joined. `{ groups }`: about that many groups of equal rows, a model card's
 * curve of ten points however many rows were pooled (candidate and champion are read on the same
 * rows, so their ECEs share a noise floor). `{ minRows }`: until each group holds that many rows,
 * for drift, where a 40-row month is set against a 3000-row reference: groups of like size keep
 * the ECE's noise floor and the Hosmer–Lemeshow χ² reading independent of the window's size.
 */
export type Grouping = { readonly groups: number } | { readonly minRows: number };

export interface BrierScore {
  /** Mean squared gap between score and outcome, each score at its bin's centre. */
  readonly brier: number;
  /** Most that reading can move it from the exact scores' Brier score. */
  readonly bound: number;
}

/**
 * The Brier score at bin centres (0.25 for a model that always says 0.5) and its `bound`; null
 * without rows. In bin [lo, lo + w] a score s moves a positive's term by |s − c|·(2 − s − c) ≤
 * w(1 − lo) − w²/4 and a negative's by |s − c|·(s + c) ≤ w(lo + w) − w²/4; `bound` is their mean
 * over the rows, so it never exceeds the worst case h(2 − h) = w − w²/4 < 1/bins (h = w/2; 0.001
 * at 1000 bins) and is far below it for a model that scores positives high and negatives low.
 *
 * @example
 * brierScore([0, 3], [7, 0]); // 2 bins: 3 positives at 0.75, 7 negatives at 0.25 → { brier: 0.0625, bound: 0.1875 }
 */
export function brierScore(pos: ArrayLike<number>, neg: ArrayLike<number>): BrierScore | null {
  const bins = binCount(pos, neg);
  let rows = 0;
  let sum = 0;
  let bound = 0;
  for (let i = 0; i < bins; i++) {
    const c = (i + 0.5) / bins;
    sum += pos[i]! * (1 - c) ** 2 + neg[i]! * c ** 2;
    // In units of w²: w(1 − lo) = (bins − i)·w², w(lo + w) = (i + 1)·w².
    bound += pos[i]! * (bins - i) + neg[i]! * (i + 1);
    rows += pos[i]! + neg[i]!;
  }
  return rows === 0 ? null : { brier: Math.min(1, sum / rows), bound: (bound / rows - 0.25) / bins ** 2 };
}

/**
 * Adjacent bins joined into groups that tile [0, 1], in score order. `{ groups }` closes a group
 * once the rows so far reach the next multiple of n/groups: clinical scores crowd the low end, so
 * fixed-width deciles would leave most rows in one or two groups. `{ minRows }` closes one once it
 * holds `minRows` rows. Rows left over, or empty bins above the last score, join the last group. A
 * bin is never split, so a crowded bin makes a larger group and fewer groups.
 *
 * @example
 * calibrationGroups([0, 1, 0, 3], [3, 2, 1, 0], { groups: 2 }).map((g) => g.n); // [6, 4]
 */
export function calibrationGroups(pos: ArrayLike<number>, neg: ArrayLike<number>, grouping: Grouping): CalibrationGroup[] {
  const bins = binCount(pos, neg);
  const equalCount = "groups" in grouping;
  const k = "groups" in grouping ? grouping.groups : grouping.minRows;
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`${equalCount ? "groups" : "minRows"} must be a positive integer, got ${k}`);
  let total = 0;
  for (let i = 0; i < bins; i++) total += pos[i]! + neg[i]!;
  if (total === 0) return [];
  const sums: { from: number; n: number; positives: number; centres: number }[] = [];
  let open = { from: 0, n: 0, positives: 0, centres: 0 };
  let seen = 0;
  let next = 1;
  for (let i = 0; i < bins; i++) {
    const m = pos[i]! + neg[i]!;
    seen += m;
    open = { from: open.from, n: open.n + m, positives: open.positives + pos[i]!, centres: open.centres + m * (i + 0.5) };
    // Integer comparison: seen/total ≥ next/groups without rounding.
    if (equalCount ? seen * k < next * total : open.n < k) continue;
    sums.push(open);
    next = Math.floor((seen * k) / total) + 1;
    open = { from: i + 1, n: 0, positives: 0, centres: 0 };
  }
  const tail = sums.pop();
  sums.push(tail ? { ...tail, n: tail.n + open.n, positives: tail.positives + open.positives, centres: tail.centres + open.centres } : open);
  return sums.map((s, j) => ({
    lo: s.from / bins,
    hi: (sums[j + 1]?.from ?? bins) / bins,
    n: s.n,
    predicted: Math.min(1, s.centres / s.n / bins),
    observed: s.positives / s.n,
  }));
}

/**
 * Σ n_g·|observed_g − predicted_g| / n; null without rows. Bin centres move each group's predicted
 * risk by at most half a bin, so it is within 1/(2·bins) of the exact scores' ECE over the same groups.
 *
 * @example
 * expectedCalibrationError([{ lo: 0, hi: 1, n: 20, predicted: 0.375, observed: 0.75 }]); // 0.375
 */
export function expectedCalibrationError(groups: readonly CalibrationGroup[]): number | null {
  const n = groups.reduce((a, g) => a + g.n, 0);
  return n === 0 ? null : Math.min(1, groups.reduce((e, g) => e + g.n * Math.abs(g.observed - g.predicted), 0) / n);
}

/**
 * Σ (O_g − E_g)² / (E_g (1 − predicted_g)) over the groups' observed and expected positives: about
 * χ² with one degree of freedom per group on new rows from a calibrated model; null without rows.
 *
 * @example
 * hosmerLemeshow([{ lo: 0, hi: 1, n: 20, predicted: 0.375, observed: 0.75 }]); // 12
 */
export function hosmerLemeshow(groups: readonly CalibrationGroup[]): number | null {
  if (groups.length === 0) return null;
  return groups.reduce((h, g) => {
    // A predicted risk of 0 or 1 would divide by 0: held half a row inside.
    const e = Math.min(1 - 0.5 / g.n, Math.max(0.5 / g.n, g.predicted));
    return h + (g.n * (g.observed - e) ** 2) / (e * (1 - e));
  }, 0);
}

/**
 * The groups of `grouping` and their ECE.
 *
 * @example
 * calibration(counts.pos, counts.neg, { groups: CALIBRATION_GROUPS }).ece;
 */
export function calibration(pos: ArrayLike<number>, neg: ArrayLike<number>, grouping: Grouping): Calibration {
  const bins = calibrationGroups(pos, neg, grouping);
  return { ece: expectedCalibrationError(bins), bins };
}

function binCount(pos: ArrayLike<number>, neg: ArrayLike<number>): number {
  if (pos.length !== neg.length) throw new MetricsError("BINS_MISMATCH", `pos has ${pos.length} bins but neg has ${neg.length}`);
  return pos.length;
}
