/**
 * Rounds a non-negative `x` up with probability equal to its fractional part, else down, so that
 * E[result] = x: unbiased rounding, whose errors average out across sites and rounds instead of
 * adding up (Gupta et al., "Deep Learning with Limited Numerical Precision", ICML 2015; Alistarh
 * et al., "QSGD", NeurIPS 2017). The result is clamped to `max`, which only bites when `x`
 * exceeds it by a rounding error (a scale capped at the edge of the float32 range).
 *
 * @example
 * stochasticRound(2.25, 127, rng); // 3 with probability 0.25, else 2
 */
export function stochasticRound(x: number, max: number, rng: () => number): number {
  const floor = Math.floor(x);
  // x - floor is exact (Sterbenz), so the probability of rounding up is exactly the fraction.
  const code = rng() < x - floor ? floor + 1 : floor;
  return code > max ? max : code;
}
