import type { FederationConfig, FederationState } from "../../core/schemas/federation.ts";
import type { RoundRecord } from "../../core/schemas/round.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { writeJson } from "../repo.ts";
import { queueIfReady } from "./queue-if-ready.ts";
import { auditCoordinator } from "./audit/append-audit.ts";

/**
 * Moves the federation past a finished round: opens round `next` training from `baseVersion` (by
 * `deadline` when given and earlier than the federation's own), or, once every planned round has
 * run, asks the sites to evaluate the final model.
 */
export async function advance(deps: CoordinatorDeps, config: FederationConfig, next: number, baseVersion: number, deadline?: number): Promise<FederationState> {
  const now = deps.clock.now();
  if (next > config.rounds) {
    const state: FederationState = { phase: "evaluating", round: config.rounds, modelVersion: baseVersion, updatedAt: now };
    await writeJson(deps.store, keys.state, state);
    deps.logger.info("training finished; evaluating", { modelVersion: baseVersion });
    await auditCoordinator(deps, "training.finish", `model/${baseVersion}`, {});
    return state;
  }
  // A region's round may be given an earlier deadline: the global round's, less time to send the aggregate up.
  const own = now + config.roundDeadlineSeconds * 1000;
  const round: RoundRecord = { round: next, baseVersion, status: "open", openedAt: now, deadline: deadline === undefined ? own : Math.min(own, deadline) };
  await writeJson(deps.store, keys.round(next), round, { ifAbsent: true });
  const state: FederationState = { phase: "training", round: next, modelVersion: baseVersion, updatedAt: now };
  await writeJson(deps.store, keys.state, state);
  deps.logger.info("round opened", { round: next, baseVersion });
  await auditCoordinator(deps, "round.open", `round/${next}`, { baseVersion, deadline: round.deadline });
  // Asynchronous updates that arrived while the last round aggregated may already fill this one.
  if (config.async) await queueIfReady(deps, config, next);
  return state;
}
