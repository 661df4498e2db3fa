import { ConsiliumError } from "../../core/errors.ts";
import type { FederationConfig, FederationState } from "../../core/schemas/federation.ts";
import { createStrategy } from "../../core/strategy/create-strategy.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { writeJson } from "../repo.ts";
import { federationProblem } from "./federation-problem.ts";

/** Writes the consortium's agreement once; the federation starts by collecting statistics. */
export async function createFederation(deps: CoordinatorDeps, requested: FederationConfig): Promise<FederationState> {
  // The canonical spec is stored, so that a named configuration (`robust`) cannot change under a running federation.
  const strategy = createStrategy(requested.strategy);
  const problem = federationProblem(requested);
  if (problem) throw new ConsiliumError("INVALID_CONFIG", problem, 400);
  const config = { ...requested, strategy: strategy.spec };
  const created = await writeJson(deps.store, keys.federation, config, { ifAbsent: true });
  if (!created) throw new ConsiliumError("FEDERATION_EXISTS", "a federation already exists in this store", 409);
  const state: FederationState = { phase: "stats", round: 0, modelVersion: 0, updatedAt: deps.clock.now() };
  await writeJson(deps.store, keys.state, state);
  deps.logger.info("federation created", { id: config.id, strategy: config.strategy });
  return state;
}
