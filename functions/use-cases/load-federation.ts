import { ConsiliumError } from "../../core/errors.ts";
import { DEFAULT_MAX_UPDATE_ABS, FederationConfig, FederationState } from "../../core/schemas/federation.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { mustReadJson } from "../repo.ts";

export async function loadFederation(deps: CoordinatorDeps): Promise<{ config: FederationConfig; state: FederationState }> {
  const config = await mustReadJson(deps.store, keys.federation, FederationConfig, "NO_FEDERATION", "federation");
  const state = await mustReadJson(deps.store, keys.state, FederationState, "NO_FEDERATION", "federation state");
  return { config, state };
}

/** Updates that close a round: the asynchronous buffer's size, else the quorum, else every site. */
export function quorumOf(config: FederationConfig): number {
  return config.async?.bufferSize ?? config.quorum ?? config.expectedSites;
}

/** Agreements written before the bound existed get the default one. */
export function maxUpdateAbsOf(config: FederationConfig): number {
  return config.maxUpdateAbs ?? DEFAULT_MAX_UPDATE_ABS;
}

export function assertPhase(state: FederationState, phase: FederationState["phase"]): void {
  if (state.phase !== phase) throw new ConsiliumError("WRONG_PHASE", `federation is in phase ${state.phase}, not ${phase}`, 409);
}

/**
 * Whether sites are asked for the final model's counts on their training rows (the operating
 * point's): not under a privacy policy or noisy statistics, whose guarantees do not cover them.
 */
export const trainCountsAsked = (config: FederationConfig): boolean => config.privacy === undefined && config.statsNoise === undefined && config.features.label.classes === undefined;

/**
 * The counts a site reports of the round's model (an update manifest's or a masked input's) must be
 * of the kind the federation's model makes: binary `baseMetrics`, or `baseClasses` of its K
 * classes. Otherwise they would be pooled with the others' (a K-class merge of another K fails).
 */
export function checkBaseCounts(config: FederationConfig, post: { readonly baseMetrics?: unknown; readonly baseClasses?: { readonly k: number } }): void {
  const classes = config.features.label.classes?.length;
  if (classes === undefined && post.baseClasses !== undefined) throw new ConsiliumError("COUNTS_MISMATCH", "this federation's model is binary: report the round's model as baseMetrics, not baseClasses", 422);
  if (classes !== undefined && post.baseMetrics !== undefined) throw new ConsiliumError("COUNTS_MISMATCH", `this federation's model has ${classes} classes: report the round's model as baseClasses, not baseMetrics`, 422);
  if (classes !== undefined && post.baseClasses !== undefined && post.baseClasses.k !== classes) {
    throw new ConsiliumError("COUNTS_MISMATCH", `this federation's model has ${classes} classes, baseClasses counts ${post.baseClasses.k}`, 422);
  }
}
