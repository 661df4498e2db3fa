import { ConsiliumError } from "../../core/errors.ts";
import { FederationState, type FederationConfig } from "../../core/schemas/federation.ts";
import { createStrategy } from "../../core/strategy/create-strategy.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { mustReadJson, writeJson } from "../repo.ts";
import { federationProblem } from "./federation-problem.ts";
import { consortiumDeps, scopeToRun } from "./runs/run-scope.ts";
import { startRun } from "./runs/start-run.ts";
import { createdTrigger } from "./runs/triggers.ts";

/**
 * Writes the consortium's agreement once and starts its first run, which begins by collecting
 * statistics. Later runs start from the cron tick or an operator (`runs/advance-runs.ts`).
 */
export async function createFederation(deps: CoordinatorDeps, requested: FederationConfig): Promise<FederationState> {
  const root = consortiumDeps(deps);
  // The canonical spec is stored, so that a named configuration (`robust`) cannot change under a running federation.
  const strategy = createStrategy(requested.strategy);
  const problem = federationProblem(requested);
  if (problem) throw new ConsiliumError("INVALID_CONFIG", problem, 400);
  const config = { ...requested, strategy: strategy.spec };
  const exists = () => new ConsiliumError("FEDERATION_EXISTS", "a federation already exists in this store", 409);
  // A store from before runs holds its one federation at the top.
  if ((await root.store.head(keys.federation)) !== null) throw exists();
  if (!(await writeJson(root.store, keys.consortium, config, { ifAbsent: true }))) throw exists();
  const trigger = await createdTrigger(root);
  const { record } = await startRun(root, config, 1, [trigger]);
  deps.logger.info("federation created", { id: config.id, strategy: config.strategy });
  return mustReadJson(scopeToRun(root, record.seq).store, keys.state, FederationState, "NO_FEDERATION", "federation state");
}
