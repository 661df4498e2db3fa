import { composeRdp } from "./compose-rdp.ts";
import { DEFAULT_ORDERS } from "./rdp-orders.ts";
import { checkDelta, rdpToDp, type PrivacySpent } from "./rdp-to-dp.ts";
import type { SampledGaussian } from "./sampled-gaussian.ts";

export interface PrivacySpentOptions {
  /** Target δ in (0, 1); for records, well below 1 / records (for sites, below 1 / sites). */
  readonly delta: number;
  /** Integer Rényi orders from 2 to `MAX_ORDER` to minimise over; default `DEFAULT_ORDERS`. */
  readonly orders?: readonly number[];
}

/**
 * The RDP accountant in one call: the (ε, δ) spent by a ledger of sampled Gaussian runs,
 * composed in RDP (`composeRdp`) and converted once at the end (`rdpToDp`). The same call serves
 * record-level DP-SGD (q = batch / records, one entry per optimizer setting) and site-level
 * DP-FedAvg (q = sites per round / sites, see `dpFedAvgRounds`).
 * Throws `ConfigError` for an invalid entry, order or δ.
 *
 * @example
 * privacySpent([{ q: 0.01, sigma: 1.1, steps: 1000 }], { delta: 1e-5 }); // { epsilon: ≈ 1.73, order: 9 }
 */
export function privacySpent(entries: readonly SampledGaussian[], options: PrivacySpentOptions): PrivacySpent {
  checkDelta(options.delta);
  const orders = options.orders ?? DEFAULT_ORDERS;
  return rdpToDp(composeRdp(entries, orders), orders, options.delta);
}
