/** `log(e^a + e^b)` without overflow; `-Infinity` stands for log 0. */
export function logAddExp(a: number, b: number): number {
  const hi = Math.max(a, b);
  if (hi === -Infinity || hi === Infinity) return hi;
  return hi + Math.log1p(Math.exp(Math.min(a, b) - hi));
}

/** `log(e^x − 1)` for x > 0: exact to rounding for tiny x, finite for x past the range of `exp`. */
export function logExpm1(x: number): number {
  return x > 36 ? x + Math.log1p(-Math.exp(-x)) : Math.log(Math.expm1(x));
}
