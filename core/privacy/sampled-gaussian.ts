import { ConfigError } from "../errors.ts";

/**
 * `steps` runs of the sampled Gaussian mechanism: each record (DP-SGD) or site (DP-FedAvg) is
 * included independently with probability `q` (Poisson sampling), and Gaussian noise of standard
 * deviation `sigma` × the L2 sensitivity (the clip bound) is added to the sum of clipped
 * contributions. A ledger of these entries, one per change of settings, is the whole accountant
 * state: plain data, saved and passed back as it is.
 *
 * @example
 * const sgd: SampledGaussian = { q: 256 / 60_000, sigma: 1.1, steps: 4_688 }; // batch 256, 20 epochs
 * const fedAvg: SampledGaussian = { q: 10 / 100, sigma: 1.0, steps: 200 }; // 10 of 100 sites per round, 200 rounds
 */
export interface SampledGaussian {
  /** Sampling rate in [0, 1]: expected batch size / records, or expected sites per round / sites. */
  readonly q: number;
  /** Noise multiplier: noise standard deviation divided by the L2 sensitivity, positive. */
  readonly sigma: number;
  /** Times the mechanism ran (optimizer steps or rounds), a non-negative integer. */
  readonly steps: number;
}

/** Throws `ConfigError` unless `q` is in [0, 1] and `sigma` is positive and finite. */
export function checkSampling(q: number, sigma: number): void {
  if (!(q >= 0 && q <= 1)) throw new ConfigError(`sampling rate q must be in [0, 1], got ${q}`);
  if (!(sigma > 0 && Number.isFinite(sigma))) throw new ConfigError(`noise multiplier sigma must be positive and finite, got ${sigma}`);
}

/** Throws `ConfigError` unless `entry` is a valid `SampledGaussian`. */
export function checkSampledGaussian(entry: SampledGaussian): void {
  checkSampling(entry.q, entry.sigma);
  if (!(Number.isSafeInteger(entry.steps) && entry.steps >= 0)) {
    throw new ConfigError(`steps must be a non-negative integer, got ${entry.steps}`);
  }
}
