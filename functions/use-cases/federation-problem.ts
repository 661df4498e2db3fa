/**
 * @module
 * Which agreements a coordinator refuses, in one place: `createFederation` refuses them with
 * `INVALID_CONFIG`, and the CLI asks before it starts anything, so that a combination of flags is
 * judged exactly as the coordinator would judge it.
 */
import { CodecSpec } from "../../core/codec/index.ts";
import { noiseProblem } from "../../core/preprocess/noisy-stats.ts";
import { modelSpecProblem, outputCount } from "../../core/model/layout.ts";
import type { FederationConfig } from "../../core/schemas/federation.ts";
import { createStrategy } from "../../core/strategy/create-strategy.ts";
import type { Strategy } from "../../core/strategy/strategy.ts";
import { MIN_REGIONAL_SITES } from "./aggregate/regional.ts";
import { MIN_SECURE_SITES } from "./secure/session.ts";

/** Why a coordinator cannot run `config`, or null. */
export function federationProblem(config: FederationConfig): string | null {
  const strategy = createStrategy(config.strategy);
  const codec = CodecSpec.parse(config.codec).name;
  // Client-level noise covers the update a site sends; SCAFFOLD's control delta is computed from the update before the noise.
  if (config.privacy?.level === "client" && strategy.controlVariates) {
    return `client-level privacy cannot be used with ${strategy.spec}: its control variates would leave the site without noise`;
  }
  if (config.async && strategy.controlVariates) {
    return `asynchronous rounds cannot be used with ${strategy.spec}: its control variates assume every update starts from the round's model`;
  }
  if (config.async && codec.startsWith("randk")) return "asynchronous rounds cannot be used with random-k: an update trained in an earlier round draws that round's coordinates";
  if (config.upstream && (config.expectedSites < MIN_REGIONAL_SITES || (config.quorum !== undefined && config.quorum < MIN_REGIONAL_SITES))) {
    return `a region needs at least ${MIN_REGIONAL_SITES} sites (and a quorum of as many): its aggregate must never be one site's update`;
  }
  if (config.upstream && codec !== "float32") {
    return "a region's sites send float32 updates: the relay would compress their mean a second time, and its rounding would not average out across regions";
  }
  // Client-level privacy weighs sites equally; a region's aggregate is sent up weighted by its rows, which would not be.
  if (config.upstream && (!strategy.fromMean || config.scoring?.enabled || config.async || strategy.controlVariates || config.privacy?.level === "client")) {
    return `a region's coordinator sends the plain mean of its sites' updates: it needs a mean-based strategy without control variates, scoring, asynchronous rounds or client-level privacy (here ${strategy.spec})`;
  }
  const model = modelSpecProblem(config.model);
  if (model) return model;
  // A model read from a model.json keeps its output width: the label must need as many outputs (its input width is checked when the features' width is known).
  const outputs = outputCount(config.features.label);
  if (config.model.outputs !== undefined && config.model.outputs !== outputs) {
    return `the model has ${config.model.outputs} output${config.model.outputs === 1 ? "" : "s"}, the label needs ${outputs} (${outputs === 1 ? "one logit for a binary outcome" : `one per class of ${outputs}`})`;
  }
  if (config.model.kind === "cnn" && config.privacy?.level === "sample") {
    return "sample-level privacy (DP-SGD) clips each row's gradient, which the runner computes for dense layers only: use client-level privacy with a cnn model";
  }
  // The head is fitted on the site's rows without noise and then shapes every row's gradient of the body: no per-row bound holds.
  if (config.training.personalization?.method === "fedrep" && config.privacy?.level === "sample") {
    return "sample-level privacy (DP-SGD) bounds each row's part in the body's gradient, which fedrep's head (fitted on the same rows without noise) would not respect: use client-level privacy, or another personalization";
  }
  if (config.features.label.classes !== undefined && config.continuous) {
    return "continuous learning registers and gates binary models (its model card, promotion gate and operating point are a binary model's): a K-class label cannot be used with it yet";
  }
  if (config.secureAggregation) {
    const problem = secureAggregationProblem(config, strategy);
    if (problem) return problem;
  }
  return config.statsNoise ? noiseProblem(config.features) : null;
}

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
