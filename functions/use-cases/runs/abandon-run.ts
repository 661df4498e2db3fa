/**
 * @module
 * An operator stops the run that trains when it cannot finish (a hospital left for good, statistics
 * that will not merge): `abandoned.json` is written once with the reason, then the run's phase is
 * set to done, so its sites stop. An abandoned run registers nothing; the next trigger starts the
 * next run.
 */
import { ConsiliumError } from "../../../core/errors.ts";
import { Abandoned } from "../../../core/schemas/consortium.ts";
import type { FederationState } from "../../../core/schemas/federation.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { mustReadJson, readJson, writeJson } from "../../repo.ts";
import { loadFederation } from "../load-federation.ts";
import { activeRunDeps } from "./run-scope.ts";

export async function abandonRun(deps: CoordinatorDeps, reason: string): Promise<{ run: number; abandoned: Abandoned }> {
  const run = await activeRunDeps(deps);
  const { state } = await loadFederation(run);
  const already = await readJson(run.store, keys.abandoned, Abandoned);
  if (state.phase === "done" && already === null) throw new ConsiliumError("RUN_FINISHED", "the active run is done already: there is nothing to abandon", 409);
  await writeJson(run.store, keys.abandoned, { at: run.clock.now(), reason } satisfies Abandoned, { ifAbsent: true });
  const kept = await mustReadJson(run.store, keys.abandoned, Abandoned, "CORRUPT_STATE", "abandoned run");
  await writeJson(run.store, keys.state, { ...state, phase: "done", updatedAt: run.clock.now() } satisfies FederationState);
  run.logger.warn("run abandoned", { run: run.run?.seq, reason: kept.reason });
  return { run: run.run?.seq ?? 0, abandoned: kept };
}

/** Whether an operator abandoned the run. */
export async function isAbandoned(deps: CoordinatorDeps): Promise<Abandoned | null> {
  return readJson(deps.store, keys.abandoned, Abandoned).catch(() => null);
}
