/**
 * Fractional bits of each logarithm in `subsetBits`. One unit of the last place costs at most
 * `n · 2^-32 < 1` bit over the whole sum.
 */
const FRACTION = 32n;
/** Working precision of the repeated squaring; rounding up keeps every step an upper bound. */
const PRECISION = 64n;
const ONE = 1n << PRECISION;

/**
 * An upper bound, in whole bits, on what the subset coder (`subset-code.ts`) writes for any `k`
 * of `n` coordinates, `0 < k < n`: `n · H2(k / n)`, which is at least `log2 C(n, k)` (since
 * `C(n, k) · p^k · (1 - p)^(n - k) ≤ 1` for `p = k / n`), plus `k · n / 2^39` for the coder's
 * rounding (see there). Integer arithmetic only (BigInt, logarithms by repeated squaring, every
 * step rounded up), so a site and the coordinator, whatever their platform, agree on the size of
 * an update without relying on `Math.log2`, whose last bit the language leaves to the engine.
 *
 * @example
 * subsetBits(1_000_000, 100_000); // 468_996: n · H2(0.1) is 468,995.6, log2 C(n, k) 468,986.0
 */
export function subsetBits(n: number, k: number): number {
  const all = BigInt(n);
  const kept = BigInt(k);
  const entropy = kept * log2Above(all, kept) + (all - kept) * log2Above(all, all - kept);
  // k · n / 2^39 bits in units of 2^-32, rounded up.
  const rounding = (kept * all + 127n) >> 7n;
  return Number((entropy + rounding + (1n << FRACTION) - 1n) >> FRACTION);
}

/**
 * An upper bound on `log2(a / b)` in units of `2^-FRACTION`, for integers `a ≥ b ≥ 1`, off by at
 * most about one unit: the integer part from bit lengths, then one fraction bit per squaring of
 * `y = a / (b · 2^e)` in [1, 2] (a square of 2 or more gives a 1 and is halved). Each `y` is
 * rounded up, which can only raise the bits, and the last unit covers the bits not computed.
 */
function log2Above(a: bigint, b: bigint): bigint {
  let e = BigInt(a.toString(2).length - b.toString(2).length);
  if (b << e > a) e--;
  const divisor = b << e;
  let y = (a * ONE + divisor - 1n) / divisor;
  let bits = e;
  for (let i = 0n; i < FRACTION; i++) {
    y = (y * y + ONE - 1n) >> PRECISION;
    bits <<= 1n;
    if (y >= 2n * ONE) {
      y = (y + 1n) >> 1n;
      bits |= 1n;
    }
  }
  return bits + 1n;
}
