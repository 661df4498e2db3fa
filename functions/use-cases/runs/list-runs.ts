/**
 * @module
 * The consortium's runs as the operator sees them: each run's record (triggers, parent, config
 * hash), where it stands, how its first model was made and the version it registered; and the
 * triggers waiting for the next run. A run whose objects do not read is shown with what does.
 */
import { RunRecord, WarmStart, type RunView, type RunsView } from "../../../core/schemas/consortium.ts";
import { FederationState } from "../../../core/schemas/federation.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { readJson } from "../../repo.ts";
import { registrationOf } from "../registry/register-run.ts";
import { activeRunSeq, consortiumDeps, runSeqs, scopeToRun } from "./run-scope.ts";
import { pendingTriggers } from "./triggers.ts";
import { isAbandoned } from "./abandon-run.ts";

export async function listRuns(deps: CoordinatorDeps): Promise<RunsView> {
  const root = consortiumDeps(deps);
  const active = await activeRunSeq(root);
  const runs: RunView[] = [];
  let newest: RunRecord | null = null;
  for (const seq of runSeqs(await root.store.list(keys.runsPrefix))) {
    const record = await orNull(root, keys.run(seq), () => readJson(root.store, keys.run(seq), RunRecord));
    if (record === null) continue;
    newest = record;
    const run = scopeToRun(root, seq);
    const state = await orNull(root, keys.state, () => readJson(run.store, keys.state, FederationState));
    const warmStart = await orNull(root, keys.warmStart, () => readJson(run.store, keys.warmStart, WarmStart));
    const registered = state?.phase === "done" ? await orNull(root, "registry", () => registrationOf(run)) : null;
    const abandoned = await isAbandoned(run);
    runs.push({ ...record, phase: state?.phase ?? null, round: state?.round ?? null, warmStart, version: typeof registered === "number" ? registered : null, active: seq === active, abandoned });
  }
  return { runs, pending: await pendingTriggers(root, newest) };
}

async function orNull<T>(deps: CoordinatorDeps, what: string, read: () => Promise<T | null>): Promise<T | null> {
  try {
    return await read();
  } catch (err) {
    deps.logger.warn("a run's object does not read; shown without it", { what, error: (err as Error).message });
    return null;
  }
}
