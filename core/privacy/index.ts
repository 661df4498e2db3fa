/**
 * @module
 * Rényi-DP accounting for DP-SGD and DP-FedAvg: the RDP of the sampled Gaussian mechanism at
 * integer orders, composed over a ledger of `{ q, sigma, steps }` runs, converted to (ε, δ), and
 * the inverse, the smallest noise multiplier for a target (ε, δ).
 */
export { calibrateNoise, DEFAULT_MAX_SIGMA, DEFAULT_SIGMA_TOLERANCE, type NoiseTarget } from "./calibrate-noise.ts";
export { composeRdp } from "./compose-rdp.ts";
export { dpFedAvgRounds, type FedAvgRounds } from "./dp-fedavg-rounds.ts";
export { privacySpent, type PrivacySpentOptions } from "./privacy-spent.ts";
export { DEFAULT_ORDERS, MAX_ORDER } from "./rdp-orders.ts";
export { rdpToDp, type PrivacySpent } from "./rdp-to-dp.ts";
export type { SampledGaussian } from "./sampled-gaussian.ts";
export { sampledGaussianRdp } from "./sampled-gaussian-rdp.ts";
