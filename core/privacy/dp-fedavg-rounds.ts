import { ConfigError } from "../errors.ts";
import { checkSampledGaussian, type SampledGaussian } from "./sampled-gaussian.ts";

export interface FedAvgRounds {
  /** Sites in the federation, a positive integer. */
  readonly sites: number;
  /** Expected sites per round: each site takes part independently with probability sitesPerRound / sites. */
  readonly sitesPerRound: number;
  /** Noise standard deviation on the sum of clipped site updates, divided by the clip bound. */
  readonly noiseMultiplier: number;
  /** Rounds run with these settings, a non-negative integer. */
  readonly rounds: number;
}

/**
 * Site-level DP-FedAvg (McMahan et al. 2018, "Learning Differentially Private Recurrent Language
 * Models") as a ledger entry: the sampled Gaussian mechanism with q = sitesPerRound / sites, σ the
 * noise multiplier on the clipped update sum, one step per round. The accounting assumes Poisson
 * selection of sites; picking exactly `sitesPerRound` sites each round is the usual stand-in, not
 * covered by the bound. Throws `ConfigError` for invalid counts or settings.
 *
 * @example
 * privacySpent([dpFedAvgRounds({ sites: 100, sitesPerRound: 10, noiseMultiplier: 1, rounds: 200 })], { delta: 1e-3 });
 */
export function dpFedAvgRounds({ sites, sitesPerRound, noiseMultiplier, rounds }: FedAvgRounds): SampledGaussian {
  if (!(Number.isSafeInteger(sites) && sites >= 1)) throw new ConfigError(`sites must be a positive integer, got ${sites}`);
  if (!(sitesPerRound > 0 && sitesPerRound <= sites)) throw new ConfigError(`sites per round must be in (0, ${sites}], got ${sitesPerRound}`);
  const entry = { q: sitesPerRound / sites, sigma: noiseMultiplier, steps: rounds };
  checkSampledGaussian(entry);
  return entry;
}
