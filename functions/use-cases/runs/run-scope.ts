/**
 * @module
 * Which run a request, a job or a tick acts on. The consortium's deps become one run's deps by
 * swapping their store for the run's view (`adapters/run-store.ts`); use cases below the entry
 * points never know which run they are in.
 */
import { ActiveRun } from "../../../core/schemas/consortium.ts";
import { runStore } from "../../adapters/run-store.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { readJson } from "../../repo.ts";

/** One run's deps; seq 0 is a store from before runs (its federation at the top of the store). */
export function scopeToRun(deps: CoordinatorDeps, seq: number): CoordinatorDeps {
  const root = consortiumDeps(deps);
  return { ...root, store: runStore(root.store, seq === 0 ? "" : keys.runPrefix(seq)), run: { seq }, consortium: root };
}

/** The consortium's deps behind a run's (the same deps when they are the consortium's already). */
export function consortiumDeps(deps: CoordinatorDeps): CoordinatorDeps {
  return deps.consortium ?? deps;
}

/** The deps of the run the sites work on: these deps when they are a run's already. */
export async function activeRunDeps(deps: CoordinatorDeps): Promise<CoordinatorDeps> {
  if (deps.run) return deps;
  return scopeToRun(deps, await activeRunSeq(deps));
}

/**
 * The active run's number: the pointer, else (a start cut short before the pointer, or a pointer
 * that does not parse) the newest run record, else 0 for a store from before runs, else 1 (the
 * first run, not yet created: reads find nothing, as before any federation).
 */
export async function activeRunSeq(deps: CoordinatorDeps): Promise<number> {
  const root = consortiumDeps(deps);
  let pointer: ActiveRun | null = null;
  try {
    pointer = await readJson(root.store, keys.activeRun, ActiveRun);
  } catch {
    root.logger.warn("the active-run pointer does not parse; the newest run record stands", { key: keys.activeRun });
  }
  if (pointer !== null) return pointer.seq;
  const newest = await newestRunSeq(root);
  if (newest !== null) return newest;
  if ((await root.store.head(keys.federation)) !== null) return 0;
  return 1;
}

/** The highest run number with a record, or null when no run has started. */
export async function newestRunSeq(deps: CoordinatorDeps): Promise<number | null> {
  const seqs = runSeqs(await consortiumDeps(deps).store.list(keys.runsPrefix));
  return seqs.at(-1) ?? null;
}

/** Run numbers from listed run-record keys, ascending. */
export function runSeqs(listed: readonly string[]): number[] {
  return listed
    .map((k) => /^consortium\/runs\/(\d{6})\.json$/.exec(k)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}
