/**
 * @module
 * The registry as an operator sees and moves it: every version with its lineage, pooled figures
 * and decision; one version's card; promotion and rollback by the operator, each a compare-and-swap
 * of the champion pointer with the reason recorded.
 */
import { ConsiliumError } from "../../../core/errors.ts";
import { ModelCard, RegistryDecision, type ChampionEntry, type ChampionRequest, type ModelsView, type ModelView, type RollbackRequest } from "../../../core/registry/index.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { readJson } from "../../repo.ts";
import { championHistory, moveChampion } from "./champion.ts";

async function registered(deps: CoordinatorDeps): Promise<number[]> {
  const cards = (await deps.store.list(keys.registryVersionsPrefix)).filter((k) => k.endsWith("/card.json"));
  return cards.map((k) => Number(/versions\/(\d{6})\/card\.json$/.exec(k)?.[1])).filter(Number.isInteger).sort((a, b) => a - b);
}

/** Every registered version, oldest first, with the champion and its history. */
export async function listModels(deps: CoordinatorDeps): Promise<ModelsView> {
  const history = await championHistory(deps);
  const champion = history.at(-1) ?? null;
  const versions = [];
  for (const v of await registered(deps)) {
    // A card or decision that does not parse is passed over here (logged), never a failed list.
    const card = await readJson(deps.store, keys.registryCard(v), ModelCard).catch(() => {
      deps.logger.warn("a registered card does not parse; left out of the list", { version: v });
      return null;
    });
    if (!card) continue;
    versions.push({
      version: v,
      run: card.run,
      parent: card.parent,
      createdAt: card.createdAt,
      strategy: card.strategy,
      auroc: card.evaluation.pooled.auroc,
      sites: card.sites.length,
      champion: champion?.version === v,
      decision: await readJson(deps.store, keys.registryDecision(v), RegistryDecision).catch(() => null),
    });
  }
  return { champion, history, versions };
}

/** One version's card and decision. @throws ConsiliumError UNKNOWN_VERSION (404). */
export async function showModel(deps: CoordinatorDeps, version: number): Promise<ModelView> {
  const card = await readJson(deps.store, keys.registryCard(version), ModelCard);
  if (!card) throw new ConsiliumError("UNKNOWN_VERSION", `no registered version ${version}`, 404);
  const history = await championHistory(deps);
  return {
    card,
    decision: await readJson(deps.store, keys.registryDecision(version), RegistryDecision),
    champion: history.at(-1)?.version === version,
    formerChampion: history.slice(0, -1).some((e) => e.version === version),
  };
}

/** An operator's promotion of a registered version. */
export async function promoteModel(deps: CoordinatorDeps, version: number, request: ChampionRequest): Promise<ChampionEntry> {
  await showModel(deps, version);
  return moveChampion(deps, { version, action: "promote", by: "operator", reason: request.reason, ...(request.expectedChampion !== undefined && { expected: request.expectedChampion }) });
}

/** An operator's rollback to a version that was champion before. @throws ConsiliumError NOT_A_FORMER_CHAMPION (422). */
export async function rollbackModel(deps: CoordinatorDeps, request: RollbackRequest): Promise<ChampionEntry> {
  const view = await showModel(deps, request.to);
  if (view.champion) throw new ConsiliumError("ALREADY_CHAMPION", `version ${request.to} is the champion already`, 409);
  if (!view.formerChampion) throw new ConsiliumError("NOT_A_FORMER_CHAMPION", `version ${request.to} was never the champion: promote it instead (consilium models promote ${request.to})`, 422);
  return moveChampion(deps, { version: request.to, action: "rollback", by: "operator", reason: request.reason, ...(request.expectedChampion !== undefined && { expected: request.expectedChampion }) });
}
