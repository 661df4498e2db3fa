/**
 * @module
 * What the Gaussian noise of noisy statistics (core/preprocess/noisy-stats.ts) adds to the
 * variance of what drift reads from them, by the delta method: every count carries noise of
 * standard deviation σ, a feature's sum of values centred in its range σ·half-width, its sum of
 * squares σ·half-width².
 */
import type { FeatureDef } from "../schemas/feature-spec.ts";
import type { NumericStats } from "../schemas/site-stats.ts";

/** The noise's standard deviation per count in each window's statistics; 0 where they are exact. */
export interface WindowNoise {
  readonly reference: number;
  readonly current: number;
}

export const EXACT: WindowNoise = { reference: 0, current: 0 };

/** Of a rate `r` = hits / of where both are noisy counts (label prevalence: positives over rows). */
export const ratioNoise = (sigma: number, r: number, of: number): number => (sigma * sigma * (1 + r * r)) / (of * of);

/** Of a share `r` = a / (a + b) of two noisy counts (missing over missing plus present). */
export const shareNoise = (sigma: number, r: number, of: number): number => (sigma * sigma * ((1 - r) ** 2 + r * r)) / (of * of);

const centred = (s: NumericStats, f: FeatureDef) => (f.range ? { half: (f.range.max - f.range.min) / 2, off: s.mean - (f.range.min + f.range.max) / 2 } : null);

/** Of a noisy mean (centre + noisy sum / noisy count); 0 without a range, which noisy statistics need. */
export function meanNoise(sigma: number, s: NumericStats, f: FeatureDef): number {
  const c = centred(s, f);
  if (!c || sigma === 0 || s.count === 0) return 0;
  return (sigma * sigma * (c.half ** 2 + c.off ** 2)) / s.count ** 2;
}

/** Of a noisy variance M2 / count, M2 rebuilt from the noisy sums (a little high, never low). */
export function varianceNoise(sigma: number, s: NumericStats, f: FeatureDef): number {
  const c = centred(s, f);
  if (!c || sigma === 0 || s.count === 0) return 0;
  const variance = s.m2 / s.count;
  return (sigma * sigma * ((c.half ** 2 + 2 * c.off ** 2) ** 2 + variance * variance)) / s.count ** 2;
}
