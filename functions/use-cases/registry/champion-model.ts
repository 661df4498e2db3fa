/**
 * @module
 * A registered version as a site downloads it: presigned weights checked against the card's
 * digest, the model, the layout and the version's own preprocessing. Sites score the champion at a
 * run's evaluation with it, and pull it when the champion changes (`GET /v1/champion`).
 */
import { modelLayout, outputCount } from "../../../core/model/layout.ts";
import { ModelCard } from "../../../core/registry/index.ts";
import { Preprocessing } from "../../../core/schemas/preprocessing.ts";
import type { ChampionModel, ChampionOffer } from "../../../core/schemas/task.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { mustReadJson } from "../../repo.ts";
import { loadFederation } from "../load-federation.ts";
import { currentChampion } from "./champion.ts";

/** Version `version` for a site; undefined for a version whose card names no digest of its weights (registered before cards did). */
export async function championModel(deps: CoordinatorDeps, version: number): Promise<ChampionModel | undefined> {
  const card = await mustReadJson(deps.store, keys.registryCard(version), ModelCard, "CORRUPT_STATE", `version ${version}'s card`);
  const preprocessing = await mustReadJson(deps.store, keys.registryPreprocessing(version), Preprocessing, "CORRUPT_STATE", `version ${version}'s preprocessing`);
  const byteLength = await deps.store.head(keys.registryWeights(version));
  if (card.artifacts === undefined || byteLength === null) return undefined;
  const url = await deps.store.presignGet(keys.registryWeights(version), deps.urlTtlSeconds ?? 3600);
  return {
    model: { version, url, sha256: card.artifacts.weightsSha256, byteLength },
    spec: card.model,
    layout: modelLayout(card.model, preprocessing.inputs.length, outputCount(preprocessing.label)),
    preprocessing,
    ...(card.operatingPoint && { threshold: card.operatingPoint.threshold }),
  };
}

/** The champion now, for a site to pull, with the training config its head is refitted with; null before any version was promoted. */
export async function currentChampionModel(deps: CoordinatorDeps): Promise<ChampionOffer["champion"]> {
  const champion = await currentChampion(deps);
  const model = champion === null ? undefined : await championModel(deps, champion.version);
  if (model === undefined) return null;
  const { config } = await loadFederation(deps);
  return { ...model, training: config.training };
}
