import { ConsiliumError } from "../../core/errors.ts";
import { RoundRecord } from "../../core/schemas/round.ts";
import { advanceRuns, readConsortium, type RunsTick } from "./runs/advance-runs.ts";
import { activeRunDeps } from "./runs/run-scope.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { readJson, writeJson } from "../repo.ts";
import { beginAggregation } from "./begin-aggregation.ts";
import { completeStats } from "./complete-stats.ts";
import { loadFederation } from "./load-federation.ts";
import { advance } from "./open-round.ts";
import { requestAggregation } from "./request-aggregation.ts";
import { queueIfReady } from "./queue-if-ready.ts";
import { requeueStuckAggregation } from "./requeue-stuck-aggregation.ts";
import { progressSecureRound } from "./secure/index.ts";
import { registerIfDone } from "./registry/register-run.ts";
import { closeDeclinedRound } from "./stop-declined-round.ts";
import { auditCoordinator, CHECKPOINT_MS, checkpointNow } from "./audit/append-audit.ts";
import { backfillSummaries, summariseRound } from "./round-summary.ts";

export type TickAction = "none" | "opened" | "queued" | "skipped" | "requeued";

/**
 * The cron tick: in the active run, finishes whatever a crash left half done and closes a round
 * past its deadline (`closeRunRounds`); then the consortium's tick (`advanceRuns`) starts the next
 * run when one is due and none trains.
 */
export async function closeExpiredRounds(deps: CoordinatorDeps): Promise<{ round: number; action: TickAction; runs: RunsTick }> {
  const run = await activeRunDeps(deps);
  let closed: { round: number; action: TickAction };
  try {
    closed = await closeRunRounds(run);
  } catch (err) {
    // A consortium whose run's start was cut short before its agreement: the consortium's tick finishes it.
    if (!(err instanceof ConsiliumError && err.code === "NO_FEDERATION" && (await readConsortium(deps)) !== null)) throw err;
    closed = { round: 0, action: "none" };
  }
  const runs = await advanceRuns(deps);
  // The trail's tail is pinned by a signed checkpoint within CHECKPOINT_MS, however quiet the consortium.
  await checkpointNow(deps, { olderThanMs: CHECKPOINT_MS }).catch((err: unknown) => deps.logger.error("audit checkpoint not written", { err: err instanceof Error ? err.message : String(err) }));
  return { ...closed, runs };
}

/**
 * One run's tick: finishes whatever a crash left half done, and closes a round past its deadline.
 * Such a round stops taking updates at once and is then aggregated with the updates it has, or
 * skipped (training goes on from the same model) when none arrived. A round stuck aggregating
 * gets its job re-queued; a finished run is registered if it is not yet.
 */
export async function closeRunRounds(deps: CoordinatorDeps): Promise<{ round: number; action: TickAction }> {
  const { config, state } = await loadFederation(deps);
  const none = { round: state.round, action: "none" as const };
  if (state.phase === "stats") return (await completeStats(deps, config)).kind === "complete" ? { round: 1, action: "opened" } : none;
  // Summaries a close failed to write, or a store from before them, a few rounds a tick (never the round still training).
  await backfillSummaries(deps, state.phase === "training" ? state.round - 1 : state.round);
  // A finished run's registration that a crash cut short is finished here (registering again is a no-op).
  if (state.phase === "done") {
    await registerIfDone(deps);
    return none;
  }
  if (state.phase !== "training") return none;
  const round = await readJson(deps.store, keys.round(state.round), RoundRecord);
  if (!round) return none;
  // A close (here or in the aggregator) that died before opening the next round is finished on the next tick.
  // A round every site declined stops the run's training; a stop cut short is finished, never taken for a skip.
  if (round.stop === "declined" && round.status !== "closed" && !(round.status === "aggregating" && (round.included?.length ?? 0) > 0)) {
    await closeDeclinedRound(deps, config, round);
    return none;
  }
  if (round.status === "closed" || round.status === "skipped") {
    // A region's next round is its relay's to open.
    if (!config.upstream) await advance(deps, config, round.round + 1, round.resultVersion ?? round.baseVersion);
    return none;
  }
  if (round.status === "aggregating") return (await requeueStuckAggregation(deps, config.id, round)) ? { round: round.round, action: "requeued" } : none;
  // A secure round's phases close on their own deadlines, and its aggregation starts when the unmasking closes.
  if (config.secureAggregation) {
    const progress = await progressSecureRound(deps, config, round);
    return { round: round.round, action: progress === "queued" ? "queued" : progress === "failed" ? "skipped" : "none" };
  }
  // Asynchronous updates written before their round opened, if the queueing at its opening was lost.
  if (config.async && deps.clock.now() <= round.deadline) return (await queueIfReady(deps, config, round.round)) ? { round: round.round, action: "queued" } : none;
  if (deps.clock.now() <= round.deadline) return none;
  // Closed through the aggregator's own steps, so that an update racing the deadline is either in the set or told it is late.
  const closing = await beginAggregation(deps, round);
  if (closing.included.length > 0) {
    await requestAggregation(deps, config.id, round.round);
    return { round: round.round, action: "queued" };
  }
  await writeJson(deps.store, keys.round(round.round), { ...closing, status: "skipped", reason: "deadline passed with no updates", closedAt: deps.clock.now() } satisfies RoundRecord);
  await auditCoordinator(deps, "round.skip", `round/${round.round}`, { reason: "deadline passed with no updates" });
  if (!config.upstream) await advance(deps, config, round.round + 1, round.baseVersion);
  await summariseRound(deps, round.round);
  return { round: round.round, action: "skipped" };
}
