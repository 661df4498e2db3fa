/**
 * @module
 * Drift for continuous learning, from the statistics and evaluation counts sites already send:
 * PSI, mean shifts, prevalence, missing rates and unit errors per site and feature, the
 * champion's AUROC and calibration on newly labelled rows, and the policy that turns flags into a
 * training run and exclusions.
 */
export { chiSquareQuantile, satterthwaiteQuantile } from "./chi-square.ts";
export { detectDrift, type DriftOptions } from "./drift.ts";
export { DriftCheck, DriftFlag } from "./drift-flag.ts";
export { performanceFlags } from "./performance.ts";
export { DriftPolicy, driftDecision, driftPolicy, type DriftDecision, type DriftPolicyInput } from "./policy.ts";
export { normalPsi, psi, PSI_EPSILON, psiNoise, psiQuadratic, regroup } from "./psi.ts";
export { unitFactor, type UnitMatch } from "./unit-factor.ts";
