/** Wilson score interval for a binomial proportion (Wilson 1927; Newcombe 1998, method 3). */
import { covering, Z95, type Interval } from "./interval.ts";

/**
 * 95 % Wilson score interval for the proportion `k / n`; `null` when `n` is 0. Unlike the Wald
 * interval it stays inside [0, 1] and is not zero-width at 0/n or n/n: 10/10 gives [0.72, 1].
 *
 * @example
 * wilsonInterval(5, 10); // [0.2366, 0.7634]
 */
export function wilsonInterval(k: number, n: number): Interval | null {
  if (n === 0) return null;
  const p = k / n;
  const z2 = Z95 * Z95;
  const scale = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / scale;
  const half = (Z95 / scale) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At 0/n and n/n the bound on the observed side is exactly the observation.
  return covering(k === 0 ? 0 : centre - half, k === n ? 1 : centre + half, p);
}
