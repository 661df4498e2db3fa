import { RoundRecord } from "../../core/schemas/round.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { mustReadJson, writeJson } from "../repo.ts";

/** The stored form of a round's update set: the round record's own fields, both required. */
const IncludedSet = RoundRecord.pick({ round: true, included: true }).required();

/**
 * The sites whose updates round `round` aggregates. Only call once the round no longer says
 * `open`: the first caller lists the manifests then present and writes them once; every caller,
 * the aggregator and a site whose manifest raced the close alike, gets that one answer. Because
 * the round stopped saying `open` before any listing, every site that still saw it open after
 * writing its manifest is in the list.
 */
export async function fixIncluded(deps: CoordinatorDeps, round: number): Promise<string[]> {
  const key = keys.includedSet(round);
  if ((await deps.store.head(key)) === null) {
    const manifests = (await deps.store.list(keys.updatesPrefix(round))).filter((k) => k.endsWith(".json"));
    const included = manifests.map((k) => k.slice(k.lastIndexOf("/") + 1, -".json".length)).sort();
    await writeJson(deps.store, key, { round, included }, { ifAbsent: true });
  }
  return (await mustReadJson(deps.store, key, IncludedSet, "CORRUPT_STATE", `update set of round ${round}`)).included;
}
