/**
 * @module
 * The champion pointer: a history of write-once entries `registry/champion/{seq}.json`, the latest
 * being the champion. It moves only by writing entry seq + 1 if absent — compare-and-swap on the
 * store's conditional write — so of two concurrent promotions one wins and the other is refused
 * with the champion that won. An entry's number is its key's; an entry that does not parse, or
 * whose body names another number, is logged and passed over (the next move still takes the next
 * free number), so one bad object never blocks the registry.
 */
import { ConsiliumError } from "../../../core/errors.ts";
import { ChampionEntry } from "../../../core/registry/index.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { writeJson } from "../../repo.ts";
import { auditCoordinator } from "../audit/append-audit.ts";

/** The history as stored: every entry that reads, oldest first, and the highest number taken. */
async function readHistory(deps: CoordinatorDeps): Promise<{ entries: ChampionEntry[]; lastSeq: number }> {
  const numbered = (await deps.store.list(keys.championPrefix)).flatMap((k) => {
    const m = /\/(\d{6})\.json$/.exec(k);
    return m ? [{ key: k, seq: Number(m[1]) }] : [];
  });
  numbered.sort((a, b) => a.seq - b.seq);
  const entries: ChampionEntry[] = [];
  for (const { key, seq } of numbered) {
    const bytes = await deps.store.get(key);
    let parsed: ChampionEntry | null = null;
    try {
      parsed = bytes === null ? null : ChampionEntry.parse(JSON.parse(new TextDecoder().decode(bytes)));
    } catch {
      parsed = null;
    }
    if (parsed === null || parsed.seq !== seq) {
      deps.logger.warn("a champion history entry is unreadable or misnumbered; passed over", { key });
      continue;
    }
    entries.push(parsed);
  }
  return { entries, lastSeq: numbered.at(-1)?.seq ?? 0 };
}

/** The champion's history, oldest first. */
export async function championHistory(deps: CoordinatorDeps): Promise<ChampionEntry[]> {
  return (await readHistory(deps)).entries;
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
  const { entries, lastSeq } = await readHistory(deps);
  const current = entries.at(-1) ?? null;
  const now = current?.version ?? null;
  if (move.expected !== undefined && move.expected !== now) {
    throw new ConsiliumError("CHAMPION_CHANGED", `the champion is ${current === null ? "none" : `version ${current.version} (since entry ${current.seq}: ${current.reason})`}, not ${move.expected === null ? "none" : `version ${move.expected}`}: look again and retry`, 409);
  }
  if (now === move.version) throw new ConsiliumError("ALREADY_CHAMPION", `version ${move.version} is the champion already`, 409);
  const entry: ChampionEntry = { seq: lastSeq + 1, version: move.version, action: move.action, by: move.by, reason: move.reason, at: deps.clock.now(), previous: now };
  if (!(await writeJson(deps.store, keys.championEntry(entry.seq), entry, { ifAbsent: true }))) {
    // Another move wrote this entry first: it won.
    const winner = await currentChampion(deps);
    throw new ConsiliumError("CHAMPION_CHANGED", `another move of the champion won: the champion is ${winner === null ? "none" : `version ${winner.version} (${winner.reason})`}; look again and retry`, 409);
  }
  deps.logger.info("champion moved", { version: entry.version, previous: entry.previous, action: entry.action, by: entry.by });
  await auditCoordinator(deps, `champion.${entry.action}`, `registry/${entry.version}`, { previous: entry.previous, by: entry.by, reason: entry.reason });
  return entry;
}
