/**
 * @module
 * The model registry's pure half: model cards (lineage, data snapshot, federated evaluation with
 * Brier score and calibration from counts), the config and statistics digests they name, and the
 * promotion gate that decides, from counts alone, whether a candidate replaces the champion.
 */
export { canonicalJson } from "./canonical-json.ts";
export { configHash } from "./config-hash.ts";
export { FederatedEvaluation, federatedEvaluation, type SiteCounts } from "./federated-evaluation.ts";
export { decidePromotion, type PromotionInput } from "./gate.ts";
export { GateDecision, GateRule, GateRuleName, SiteJudgement } from "./gate-decision.ts";
export { GatePolicy } from "./gate-policy.ts";
export { CardPrivacy, ModelCard, SiteSnapshot } from "./model-card.ts";
export { evaluateCounts, ModelEvaluation } from "./model-evaluation.ts";
export { ratesAtThreshold, type Rates } from "./rates-at-threshold.ts";
export { RegistryError, type RegistryErrorCode } from "./registry-error.ts";
export { statsHash } from "./stats-hash.ts";
export { ChampionEntry, ChampionRequest, ModelsView, ModelView, RegistryDecision, RollbackRequest, VersionSummary } from "./registry-records.ts";
