/**
 * @module
 * A 95 % confidence interval as it travels in reports: `[lo, hi]` within [0, 1], `lo ≤ hi`.
 */
import { z } from "zod";

/** The standard normal quantile of 0.975: every interval here is two-sided at 95 %. */
export const Z95 = 1.959964;
/** The tail probability on each side of a 95 % interval. */
export const HALF_ALPHA = 0.025;

const Bound = z.number().min(0).max(1);

/**
 * `[lo, hi]` of a 95 % interval for a rate; where a rate may be undefined the field is
 * `Interval.nullable()`.
 *
 * @example
 * Interval.parse([0.74, 0.87]);
 */
export const Interval = z.tuple([Bound, Bound]).refine(([lo, hi]) => lo <= hi, "lo must not exceed hi");
export type Interval = z.infer<typeof Interval>;

/** Clamps into [0, 1] and widens to cover `point`, so rounding never leaves the estimate outside. */
export const covering = (lo: number, hi: number, point: number): Interval => [
  Math.max(0, Math.min(lo, point)),
  Math.min(1, Math.max(hi, point)),
];
