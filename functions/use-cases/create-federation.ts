import { ConsiliumError } from "../../core/errors.ts";
import { CodecSpec } from "../../core/codec/index.ts";
import { MIN_REGIONAL_SITES } from "./aggregate/aggregate-round.ts";
import { noiseProblem } from "../../core/preprocess/noisy-stats.ts";
import { createStrategy } from "../../core/strategy/create-strategy.ts";
import type { FederationConfig, FederationState } from "../../core/schemas/federation.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { writeJson } from "../repo.ts";
import type { Strategy } from "../../core/strategy/strategy.ts";
import { MIN_SECURE_SITES } from "./secure/index.ts";

/**
 * Why a federation cannot run secure aggregation, or null. The coordinator sees only the sum of
 * the updates: strategies that look at each update (median, trimmed mean, Krum, geometric median),
 * contribution scoring and control variates cannot run on it; asynchronous rounds would mask
 * updates trained in different rounds together; top-k gives each site its own coordinates, which
 * do not add up under masks. Every other codec is masked as fixed point (`ringBits`).
 */
function secureAggregationProblem(config: FederationConfig, strategy: Strategy): string | null {
  const codec = CodecSpec.parse(config.codec).name;
  if (!strategy.fromMean || strategy.controlVariates) {
    return `secure aggregation gives the coordinator only the sum of the updates: ${strategy.spec} needs each update (use fedavg or a server optimiser such as fedadam; clip at the sites for robustness, or run robust aggregation across regional groups)`;
  }
  if (config.expectedSites < MIN_SECURE_SITES) return `secure aggregation needs at least ${MIN_SECURE_SITES} sites (the sum of two would give each the other's update), the federation expects ${config.expectedSites}`;
  const phases = config.secureAggregation!.phaseSeconds;
  if (config.roundDeadlineSeconds < 3 * phases) {
    return `a secure round's two key phases may take ${phases} s each before training starts: the round deadline (${config.roundDeadlineSeconds} s) must be at least three times phaseSeconds`;
  }
  if (config.scoring?.enabled) return "contribution scoring compares each site's update with the others, which secure aggregation hides from the coordinator";
  if (config.async) return "secure aggregation sums one synchronous round's masked inputs; asynchronous rounds cannot be used with it";
  if (codec.startsWith("topk")) return `secure aggregation sums every site's values at the same coordinates; top-k gives each site its own (use float32, float16, int8, int4 or random-k, whose coordinates every site shares), not ${config.codec}`;
  return null;
}

/** Writes the consortium's agreement once; the federation starts by collecting statistics. */
export async function createFederation(deps: CoordinatorDeps, requested: FederationConfig): Promise<FederationState> {
  // The canonical spec is stored, so that a named configuration (`robust`) cannot change under a running federation.
  const strategy = createStrategy(requested.strategy);
  // Client-level noise covers the update a site sends; SCAFFOLD's control delta is computed from the update before the noise.
  if (requested.privacy?.level === "client" && strategy.controlVariates) {
    throw new ConsiliumError("INVALID_CONFIG", `client-level privacy cannot be used with ${strategy.spec}: its control variates would leave the site without noise`, 400);
  }
  if (requested.async && strategy.controlVariates) {
    throw new ConsiliumError("INVALID_CONFIG", `asynchronous rounds cannot be used with ${strategy.spec}: its control variates assume every update starts from the round's model`, 400);
  }
  if (requested.async && CodecSpec.parse(requested.codec).name.startsWith("randk")) {
    throw new ConsiliumError("INVALID_CONFIG", "asynchronous rounds cannot be used with random-k: an update trained in an earlier round draws that round's coordinates", 400);
  }
  // Client-level privacy weighs sites equally; a region's aggregate is sent up weighted by its rows, which would not be.
  if (requested.upstream && (requested.expectedSites < MIN_REGIONAL_SITES || (requested.quorum !== undefined && requested.quorum < MIN_REGIONAL_SITES))) {
    throw new ConsiliumError("INVALID_CONFIG", `a region needs at least ${MIN_REGIONAL_SITES} sites (and a quorum of as many): its aggregate must never be one site's update`, 400);
  }
  if (requested.upstream && CodecSpec.parse(requested.codec).name !== "float32") {
    throw new ConsiliumError("INVALID_CONFIG", "a region's sites send float32 updates: the relay would compress their mean a second time, and its rounding would not average out across regions", 400);
  }
  if (requested.upstream && (!strategy.fromMean || requested.scoring?.enabled || requested.async || strategy.controlVariates || requested.privacy?.level === "client")) {
    throw new ConsiliumError("INVALID_CONFIG", `a region's coordinator sends the plain mean of its sites' updates: it needs a mean-based strategy without control variates, scoring, asynchronous rounds or client-level privacy (here ${strategy.spec})`, 400);
  }
  if (requested.secureAggregation) {
    const problem = secureAggregationProblem(requested, strategy);
    if (problem) throw new ConsiliumError("INVALID_CONFIG", problem, 400);
  }
  const problem = requested.statsNoise && noiseProblem(requested.features);
  if (problem) throw new ConsiliumError("INVALID_CONFIG", problem, 400);
  const config = { ...requested, strategy: strategy.spec };
  const created = await writeJson(deps.store, keys.federation, config, { ifAbsent: true });
  if (!created) throw new ConsiliumError("FEDERATION_EXISTS", "a federation already exists in this store", 409);
  const state: FederationState = { phase: "stats", round: 0, modelVersion: 0, updatedAt: deps.clock.now() };
  await writeJson(deps.store, keys.state, state);
  deps.logger.info("federation created", { id: config.id, strategy: config.strategy });
  return state;
}
