/** Wilson & Hilferty (1931): the chi-square quantile from the standard normal one. */

/**
 * The quantile of a chi-square with `df` degrees of freedom at the probability the standard
 * normal gives below `z`. In the upper tail within 1 % from 3 degrees of freedom at 0.99, within
 * 2 % at 0.999; high, on the cautious side for a noise floor, at 1 and 2 (17 % and 2 % at z = 3).
 *
 * @example
 * chiSquareQuantile(10, 2.326348); // ≈ 23.21 (exact 23.209 at 0.99)
 */
export function chiSquareQuantile(df: number, z: number): number {
  const h = 2 / (9 * df);
  return df * Math.max(0, 1 - h + z * Math.sqrt(h)) ** 3;
}

/**
 * The upper quantile at `z` of a positive quadratic form in normal variables with this `mean` and
 * `variance`, by Satterthwaite's (1946) match to g·χ²(h): g = variance / (2·mean),
 * h = 2·mean² / variance. Exact for w·χ²(df) (mean w·df, variance 2w²·df).
 *
 * @example
 * satterthwaiteQuantile(0.09, 0.0018, 3); // 0.01 · chiSquareQuantile(9, 3)
 */
export function satterthwaiteQuantile(mean: number, variance: number, z: number): number {
  if (!(mean > 0 && variance > 0)) return 0;
  return (variance / (2 * mean)) * chiSquareQuantile((2 * mean * mean) / variance, z);
}
