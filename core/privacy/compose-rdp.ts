import { checkOrders, DEFAULT_ORDERS } from "./rdp-orders.ts";
import { checkSampledGaussian, type SampledGaussian } from "./sampled-gaussian.ts";
import { sampledGaussianRdp } from "./sampled-gaussian-rdp.ts";

/**
 * RDP of a ledger of sampled Gaussian runs, order by order: RDP adds over steps and over
 * mechanisms (Mironov 2017, "Rényi Differential Privacy", Proposition 1), so rounds run with
 * different (q, σ) simply add up. Returns one value per entry of `orders`.
 * Throws `ConfigError` for an invalid entry or order.
 *
 * @example
 * const rdp = composeRdp([{ q: 0.01, sigma: 1.1, steps: 500 }, { q: 0.02, sigma: 1.5, steps: 300 }]);
 */
export function composeRdp(entries: readonly SampledGaussian[], orders: readonly number[] = DEFAULT_ORDERS): Float64Array {
  checkOrders(orders);
  const rdp = new Float64Array(orders.length);
  for (const entry of entries) {
    checkSampledGaussian(entry);
    if (entry.steps === 0 || entry.q === 0) continue;
    for (const [i, order] of orders.entries()) rdp[i]! += entry.steps * sampledGaussianRdp(entry.q, entry.sigma, order);
  }
  return rdp;
}
