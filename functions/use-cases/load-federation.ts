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
export const trainCountsAsked = (config: FederationConfig): boolean => config.privacy === undefined && config.statsNoise === undefined;
