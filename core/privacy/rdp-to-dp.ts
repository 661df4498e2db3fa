import { ConfigError } from "../errors.ts";

/** An (ε, δ) guarantee's ε and the Rényi order that gave it. */
export interface PrivacySpent {
  readonly epsilon: number;
  readonly order: number;
}

/** Throws `ConfigError` unless δ is in (0, 1). */
export function checkDelta(delta: number): void {
  if (!(delta > 0 && delta < 1)) throw new ConfigError(`delta must be in (0, 1), got ${delta}`);
}

/**
 * The smallest ε over `orders` for which RDP values `rdp` give (ε, δ)-DP, with the improved
 * conversion of Balle et al. 2020 ("Hypothesis Testing Interpretations and Rényi Differential
 * Privacy", Proposition 12, as in TensorFlow Privacy and Opacus):
 * ε = rdp + log1p(−1/α) − (log δ + log α) / (α − 1).
 *
 * As in Google's dp_accounting, an order whose RDP r satisfies δ² > 1 − e^{−r} gives ε = 0
 * (r bounds the KL divergence, and √(1 − e^{−KL}) bounds the total variation distance, hence δ),
 * and ε is floored at 0. Ties go to the first order; if every order gives ε = ∞ the first is
 * reported. Throws `ConfigError` for δ outside (0, 1), orders that are not finite and above 1, a
 * length mismatch, or a negative or NaN RDP value.
 *
 * @example
 * const orders = Array.from({ length: 31 }, (_, i) => i + 2); // 2..32
 * rdpToDp(new Float64Array(31).fill(1.1), orders, 1e-5); // { epsilon: 1.3278…, order: 32 }
 */
export function rdpToDp(rdp: ArrayLike<number>, orders: readonly number[], delta: number): PrivacySpent {
  checkDelta(delta);
  if (orders.length === 0) throw new ConfigError("at least one RDP order is needed");
  if (rdp.length !== orders.length) throw new ConfigError(`got ${rdp.length} RDP values for ${orders.length} orders`);
  const logDelta = Math.log(delta);
  let best: PrivacySpent = { epsilon: Infinity, order: orders[0]! };
  for (const [i, order] of orders.entries()) {
    const r = rdp[i]!;
    if (!(order > 1 && Number.isFinite(order))) throw new ConfigError(`RDP orders must be finite and above 1, got ${order}`);
    if (!(r >= 0)) throw new ConfigError(`RDP values must be non-negative, got ${r} at order ${order}`);
    const epsilon = delta * delta + Math.expm1(-r) > 0 ? 0 : r + Math.log1p(-1 / order) - (logDelta + Math.log(order)) / (order - 1);
    if (epsilon < best.epsilon) best = { epsilon, order };
  }
  return { epsilon: Math.max(0, best.epsilon), order: best.order };
}
