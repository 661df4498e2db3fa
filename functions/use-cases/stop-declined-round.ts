/**
 * @module
 * A round that every site taking part declined (their privacy budgets) can receive no update, and
 * neither can any later round of the run: a site declines a round when training it would pass its
 * budget, and every later round of the run costs at least as much (the same sampling rate and
 * noise). So the round closes at once instead of waiting for its deadline, and the run's training
 * stops: with the model of its last aggregated round, which is then evaluated and registered as
 * usual; or, when no round of the run aggregated anything, the run is abandoned with the reason
 * (it registers nothing, and the consortium's next trigger starts the next run). The round is
 * closed through the aggregator's own steps, so an update that raced the last refusal is
 * aggregated instead. Each write is safe to repeat after a crash: the tick finishes what is left.
 */
import { Abandoned } from "../../core/schemas/consortium.ts";
import type { FederationConfig, FederationState } from "../../core/schemas/federation.ts";
import { RoundRecord } from "../../core/schemas/round.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { readJson, writeJson } from "../repo.ts";
import { beginAggregation } from "./begin-aggregation.ts";
import { loadFederation } from "./load-federation.ts";
import { advance } from "./open-round.ts";
import { activeSites } from "./quality.ts";
import { requestAggregation } from "./request-aggregation.ts";
import { auditCoordinator } from "./audit/append-audit.ts";
import { summariseRound } from "./round-summary.ts";

export async function stopIfAllDeclined(deps: CoordinatorDeps, config: FederationConfig, round: number): Promise<"aggregating" | "stopped" | "abandoned" | "none"> {
  // A region's rounds are its relay's to open and close; a secure round counts refusals in its own phases.
  if (config.upstream || config.secureAggregation) return "none";
  const record = await readJson(deps.store, keys.round(round), RoundRecord);
  if (record === null || record.status !== "open") return "none";
  if ((await deps.store.list(keys.updatesPrefix(round))).some((k) => k.endsWith(".json"))) return "none";
  const declined = new Set((await deps.store.list(keys.declinesPrefix(round))).map((k) => k.slice(keys.declinesPrefix(round).length, -".json".length)));
  if (declined.size < (await activeSites(deps, config))) return "none";
  const why = `every site taking part declined round ${round} (privacy budgets): no later round of this run can receive an update`;
  // The intent first, on the open round: a crash after it is finished by the tick or the aggregator (`finishDeclinedStop`), never taken for a skip that opens the next round.
  const marked: RoundRecord = { ...record, stop: "declined", reason: why };
  await writeJson(deps.store, keys.round(round), marked);
  return closeDeclinedRound(deps, config, marked);
}

/**
 * Closes a round marked for every site's refusal (here, or on the tick after a crash): through the
 * aggregator's own steps, so an update that raced the last refusal is aggregated instead (the
 * aggregator ignores the mark when it has updates); else skipped, and the stop finished.
 */
export async function closeDeclinedRound(deps: CoordinatorDeps, config: FederationConfig, marked: RoundRecord): Promise<"aggregating" | "stopped" | "abandoned"> {
  const closing = await beginAggregation(deps, marked);
  if (closing.included.length > 0) {
    await requestAggregation(deps, config.id, marked.round);
    return "aggregating";
  }
  if (closing.status !== "skipped") {
    await writeJson(deps.store, keys.round(marked.round), { ...closing, status: "skipped", stop: "declined", closedAt: deps.clock.now() } satisfies RoundRecord);
    await auditCoordinator(deps, "round.skip", `round/${marked.round}`, { reason: marked.reason ?? "every site taking part declined" });
  }
  const outcome = await finishDeclinedStop(deps, config, marked);
  await summariseRound(deps, marked.round);
  return outcome;
}

/** The stop a round skipped for every site's refusal asks for: evaluate the last aggregated model, or abandon a run that aggregated none. Safe to repeat. */
export async function finishDeclinedStop(deps: CoordinatorDeps, config: FederationConfig, record: RoundRecord): Promise<"stopped" | "abandoned"> {
  const why = record.reason ?? `every site taking part declined round ${record.round} (privacy budgets)`;
  if (record.baseVersion > 0) {
    const { state } = await loadFederation(deps);
    if (state.phase === "training") {
      deps.logger.warn("training stopped early: every site declined", { round: record.round, modelVersion: record.baseVersion });
      await advance(deps, config, config.rounds + 1, record.baseVersion);
    }
    return "stopped";
  }
  const fresh = await writeJson(deps.store, keys.abandoned, { at: deps.clock.now(), reason: `nothing trained: ${why}` } satisfies Abandoned, { ifAbsent: true });
  const { state } = await loadFederation(deps);
  if (state.phase !== "done") await writeJson(deps.store, keys.state, { ...state, phase: "done", updatedAt: deps.clock.now() } satisfies FederationState);
  if (fresh) {
    deps.logger.warn("run abandoned: every site declined its first round", { round: record.round });
    await auditCoordinator(deps, "run.abandon", `run/${deps.run?.seq ?? 0}`, { reason: `nothing trained: ${why}` });
  }
  return "abandoned";
}
