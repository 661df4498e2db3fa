import { ConfigError } from "../errors.ts";
import { composeRdp } from "./compose-rdp.ts";
import { checkOrders, DEFAULT_ORDERS } from "./rdp-orders.ts";
import { checkDelta, rdpToDp } from "./rdp-to-dp.ts";
import type { SampledGaussian } from "./sampled-gaussian.ts";
import { checkSampledGaussian } from "./sampled-gaussian.ts";
import { sampledGaussianRdp } from "./sampled-gaussian-rdp.ts";

/** Largest noise multiplier `calibrateNoise` tries unless told otherwise. */
export const DEFAULT_MAX_SIGMA = 1e4;

/** Relative width, in σ, at which `calibrateNoise` stops bisecting unless told otherwise. */
export const DEFAULT_SIGMA_TOLERANCE = 1e-6;

export interface NoiseTarget {
  /** Sampling rate of the runs to calibrate, in (0, 1]. */
  readonly q: number;
  /** Steps (or rounds) to be run at that rate, a positive integer. */
  readonly steps: number;
  /** Target ε, positive and finite. */
  readonly epsilon: number;
  /** Target δ in (0, 1). */
  readonly delta: number;
  /** Runs already spent that count against the same target; default none. */
  readonly spent?: readonly SampledGaussian[];
  /** Integer Rényi orders from 2 to `MAX_ORDER`; default `DEFAULT_ORDERS`. */
  readonly orders?: readonly number[];
  /** Largest σ to consider; default `DEFAULT_MAX_SIGMA` (1e4). */
  readonly maxSigma?: number;
  /** Bisection stops when the bracket is narrower than `tolerance` × σ; default 1e-6. */
  readonly tolerance?: number;
}

/**
 * The smallest noise multiplier σ such that `steps` sampled Gaussian steps at rate `q`, after
 * the runs in `spent`, stay within (ε, δ) by `privacySpent`'s accounting. ε falls as σ grows, so
 * the answer is bracketed by halving or doubling from σ = 1 and then bisected: the returned σ
 * meets the target and σ × (1 − tolerance) does not.
 * Throws `ConfigError` for invalid inputs, and when even `maxSigma` misses the target (ε that
 * small is out of reach at this δ with these orders, or `spent` already exceeds it).
 *
 * @example
 * calibrateNoise({ q: 0.01, steps: 1000, epsilon: 1, delta: 1e-5 }); // ≈ 1.513
 * calibrateNoise({ q: 10 / 100, steps: 200, epsilon: 2, delta: 1e-5 }); // ≈ 3.24: DP-FedAvg, 10 of 100 sites per round
 */
export function calibrateNoise(target: NoiseTarget): number {
  const { q, steps, epsilon, delta } = target;
  const orders = target.orders ?? DEFAULT_ORDERS;
  const maxSigma = target.maxSigma ?? DEFAULT_MAX_SIGMA;
  const tolerance = target.tolerance ?? DEFAULT_SIGMA_TOLERANCE;
  checkSampledGaussian({ q, sigma: 1, steps });
  if (q === 0 || steps === 0) throw new ConfigError(`calibration needs q in (0, 1] and at least one step, got q = ${q} and ${steps} steps`);
  if (!(epsilon > 0 && Number.isFinite(epsilon))) throw new ConfigError(`target epsilon must be positive and finite, got ${epsilon}`);
  checkDelta(delta);
  checkOrders(orders);
  if (!(maxSigma > 0 && Number.isFinite(maxSigma))) throw new ConfigError(`maxSigma must be positive and finite, got ${maxSigma}`);
  if (!(tolerance > 0 && tolerance < 1)) throw new ConfigError(`tolerance must be in (0, 1), got ${tolerance}`);

  const before = composeRdp(target.spent ?? [], orders);
  const rdp = new Float64Array(orders.length);
  const spentAt = (sigma: number): number => {
    for (const [i, order] of orders.entries()) rdp[i] = before[i]! + steps * sampledGaussianRdp(q, sigma, order);
    return rdpToDp(rdp, orders, delta).epsilon;
  };
  const meets = (sigma: number): boolean => spentAt(sigma) <= epsilon;

  if (!meets(maxSigma)) {
    throw new ConfigError(
      `target epsilon ${epsilon} at delta ${delta} is out of reach: even sigma = ${maxSigma} spends epsilon ${spentAt(maxSigma)} over ${steps} steps at q = ${q}`,
    );
  }
  let hi = Math.min(1, maxSigma);
  let lo = hi;
  if (meets(hi)) {
    // σ → 0 drives the RDP of every order to ∞ when q > 0, so halving ends.
    while (meets(lo)) {
      hi = lo;
      lo /= 2;
    }
  } else {
    while (!meets(hi)) {
      lo = hi;
      hi = Math.min(2 * hi, maxSigma);
    }
  }
  while (hi - lo > tolerance * hi) {
    const mid = (lo + hi) / 2;
    if (meets(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
