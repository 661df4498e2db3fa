/**
 * @module
 * The champion pointer: a history of write-once entries `registry/champion/{seq}.json`, the latest
 * being the champion. It moves only by writing entry seq + 1 if absent — compare-and-swap on the
 * store's conditional write — so of two concurrent promotions one wins and the other is refused
 * with the champion that won.
 */
import { ConsiliumError } from "../../../core/errors.ts";
import { ChampionEntry } from "../../../core/registry/index.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { readJson, writeJson } from "../../repo.ts";


/** The champion's history, oldest first (entries that do not parse are logged and skipped). */
export async function championHistory(deps: CoordinatorDeps): Promise<ChampionEntry[]> {
  const listed = (await deps.store.list(keys.championPrefix)).filter((k) => /\/\d{6}\.json$/.test(k)).sort();
  const entries = await Promise.all(listed.map((k) => readJson(deps.store, k, ChampionEntry)));
  return entries.filter((e): e is ChampionEntry => e !== null);
}

/** The current champion's entry, or null before any version was promoted. */
export async function currentChampion(deps: CoordinatorDeps): Promise<ChampionEntry | null> {
  return (await championHistory(deps)).at(-1) ?? null;
}

export interface ChampionMove {
  readonly version: number;
  readonly action: ChampionEntry["action"];
  readonly by: ChampionEntry["by"];
  readonly reason: string;
  /** The champion the caller saw (null: none yet); absent: whatever the champion is now. */
  readonly expected?: number | null;
}

/**
 * Moves the champion to `move.version`.
 * @throws ConsiliumError CHAMPION_CHANGED (409, with the current champion) when the champion is
 * not the one the caller expected, or another move won the race; ALREADY_CHAMPION (409).
 */
export async function moveChampion(deps: CoordinatorDeps, move: ChampionMove): Promise<ChampionEntry> {
  const current = await currentChampion(deps);
  const now = current?.version ?? null;
  const changed = (who: ChampionEntry | null) =>
    new ConsiliumError("CHAMPION_CHANGED", `the champion is ${who === null ? "none" : `version ${who.version} (since entry ${who.seq}: ${who.reason})`}, not ${move.expected === null ? "none" : `version ${move.expected}`}: look again and retry`, 409);
  if (move.expected !== undefined && move.expected !== now) throw changed(current);
  if (now === move.version) throw new ConsiliumError("ALREADY_CHAMPION", `version ${move.version} is the champion already`, 409);
  const entry: ChampionEntry = { seq: (current?.seq ?? 0) + 1, version: move.version, action: move.action, by: move.by, reason: move.reason, at: deps.clock.now(), previous: now };
  if (!(await writeJson(deps.store, keys.championEntry(entry.seq), entry, { ifAbsent: true }))) {
    // Another move wrote this entry first: it won.
    const winner = await currentChampion(deps);
    throw new ConsiliumError("CHAMPION_CHANGED", `another move of the champion won: the champion is ${winner === null ? "none" : `version ${winner.version} (${winner.reason})`}; look again and retry`, 409);
  }
  deps.logger.info("champion moved", { version: entry.version, previous: entry.previous, action: entry.action, by: entry.by });
  return entry;
}
