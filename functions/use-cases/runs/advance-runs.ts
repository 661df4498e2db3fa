/**
 * @module
 * The consortium's side of the cron tick: finishes a run's start that a crash cut short, records
 * the schedule's trigger when it is due, and when the newest run is done and registered starts the
 * next one with every pending trigger. One training at a time: a trigger raised while a run
 * trains waits for it.
 */
import { ConsiliumError } from "../../../core/errors.ts";
import { ActiveRun, RunRecord, type TriggerOutcome } from "../../../core/schemas/consortium.ts";
import { FederationConfig } from "../../../core/schemas/federation.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { mustReadJson, readJson } from "../../repo.ts";
import { loadFederation } from "../load-federation.ts";
import { registrationOf } from "../registry/register-run.ts";
import { consortiumDeps, newestRunSeq, scopeToRun } from "./run-scope.ts";
import { finishStart, startRun } from "./start-run.ts";
import { createdTrigger, pendingTriggers, raiseOnce, recordTrigger } from "./triggers.ts";

export type RunsAction = "none" | "training" | "registering" | "started";

export interface RunsTick {
  readonly action: RunsAction;
  /** The newest run's number (the one started, when `started`). */
  readonly run: number | null;
}

/** The consortium's agreement, or null for a store from before runs (or before any agreement). */
export async function readConsortium(deps: CoordinatorDeps): Promise<FederationConfig | null> {
  return readJson(consortiumDeps(deps).store, keys.consortium, FederationConfig);
}

/** The newest run's record, or null before the first run. */
export async function newestRun(deps: CoordinatorDeps): Promise<RunRecord | null> {
  const root = consortiumDeps(deps);
  const seq = await newestRunSeq(root);
  return seq === null ? null : mustReadJson(root.store, keys.run(seq), RunRecord, "CORRUPT_STATE", `run ${seq}`);
}

/** One tick of the consortium: see the module. Never starts a second run while one trains. */
export async function advanceRuns(deps: CoordinatorDeps): Promise<RunsTick> {
  const root = consortiumDeps(deps);
  const consortium = await readConsortium(root);
  if (consortium === null) return { action: "none", run: null };
  let record = await newestRun(root);
  // The agreement was written and the first run's start cut short before its record.
  if (record === null) record = (await startRun(root, consortium, 1, [await createdTrigger(root)])).record;
  await repairStart(root, consortium, record);
  const run = scopeToRun(root, record.seq);
  await recordScheduleTrigger(root, consortium, record);
  const { state } = await loadFederation(run);
  if (state.phase !== "done") return { action: "training", run: record.seq };
  // The next run starts from the champion this run's gate leaves: wait for its registration (or its giving up).
  if ((await registrationOf(run)) === null) return { action: "registering", run: record.seq };
  const pending = await pendingTriggers(root, record);
  if (pending.length === 0) return { action: "none", run: record.seq };
  const next = await startRun(root, consortium, record.seq + 1, pending);
  // Of two ticks racing to start it, the one that lost says the run trains.
  return { action: next.started ? "started" : "training", run: next.record.seq };
}

/** An operator's request for a run: recorded, and started at once unless a run is training. */
export async function requestRun(deps: CoordinatorDeps, reason: string): Promise<TriggerOutcome> {
  const root = consortiumDeps(deps);
  if ((await readConsortium(root)) === null) throw new ConsiliumError("NO_CONSORTIUM", "no consortium in this store: create one first (POST /v1/admin/federation, as consilium coordinator --federation FILE does), or this store's federation is from before runs and takes no second run", 409);
  const trigger = await recordTrigger(root, "manual", reason);
  const tick = await advanceRuns(root);
  // A concurrent tick (the cron) may have started the run with this trigger first: it started all the same.
  const newest = await newestRun(root);
  const started = newest !== null && (tick.action === "started" || newest.triggers.some((t) => t.key === trigger.key)) ? newest : null;
  return { trigger, started, waitingFor: started === null ? tick.run : null };
}


/** A run's agreement, first state and the pointer to it, when its start was cut short. */
async function repairStart(deps: CoordinatorDeps, consortium: FederationConfig, record: RunRecord): Promise<void> {
  const run = scopeToRun(deps, record.seq);
  let pointer: number | null = null;
  try {
    pointer = (await readJson(deps.store, keys.activeRun, ActiveRun))?.seq ?? null;
  } catch {
    pointer = null;
  }
  if (pointer !== record.seq || (await run.store.head(keys.state)) === null) {
    deps.logger.warn("finishing a run's start that was cut short", { run: record.id, seq: record.seq });
    await finishStart(deps, consortium, record);
  }
}

/** The schedule's trigger, once per run, when `continuous.schedule.everyHours` have passed since the run started. */
async function recordScheduleTrigger(deps: CoordinatorDeps, consortium: FederationConfig, record: RunRecord): Promise<void> {
  const every = consortium.continuous?.schedule?.everyHours;
  if (every === undefined) return;
  const due = record.startedAt + every * 3_600_000;
  if (deps.clock.now() < due) return;
  await raiseOnce(deps, "schedule", `scheduled: every ${every} h, and run ${record.seq} started ${new Date(record.startedAt).toISOString()}`, `after-${record.seq}`, due);
}
