import { ConfigError } from "../errors.ts";

/**
 * How many of `length` coordinates a sparse codec keeps for `fraction`: `ceil(fraction × length)`,
 * so at least one of a non-empty vector. A product within a relative 1e-9 of an integer counts as
 * that integer, so that binary rounding cannot add one (0.07 × 100 is 7.000000000000001).
 * Throws `ConfigError` unless `fraction` is in (0, 1].
 *
 * @example
 * keptCount(0.1, 1_000_000); // 100000
 * keptCount(0.1, 13); // 2
 */
export function keptCount(fraction: number, length: number): number {
  if (!(fraction > 0 && fraction <= 1)) {
    throw new ConfigError(`a sparse codec keeps a fraction in (0, 1] of the values, got ${fraction}`);
  }
  const exact = fraction * length;
  const nearest = Math.round(exact);
  return Math.abs(exact - nearest) <= 1e-9 * exact ? nearest : Math.ceil(exact);
}
