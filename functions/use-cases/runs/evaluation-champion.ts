/**
 * @module
 * The champion a run's evaluation scores beside the run's own model. Fixed once, when the first
 * site is handed its evaluation (`evaluation-champion.json`, write-once), so that every site scores
 * the same version even if an operator moves the champion meanwhile; the gate compares the two on
 * the same rows.
 */
import { z } from "zod";
import type { ChampionModel } from "../../../core/schemas/task.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { mustReadJson, readJson, writeJson } from "../../repo.ts";
import { currentChampion } from "../registry/champion.ts";
import { championModel } from "../registry/champion-model.ts";
import { consortiumDeps } from "./run-scope.ts";

const EvaluationChampion = z.object({ version: z.int().min(1).nullable() });

/** The version the run's evaluation compares with (null: there was no champion), fixed at first ask. */
export async function evaluationChampion(deps: CoordinatorDeps): Promise<number | null> {
  const fixed = await readJson(deps.store, keys.evaluationChampion, EvaluationChampion);
  if (fixed !== null) return fixed.version;
  const now = await currentChampion(consortiumDeps(deps));
  await writeJson(deps.store, keys.evaluationChampion, { version: now?.version ?? null }, { ifAbsent: true });
  return (await mustReadJson(deps.store, keys.evaluationChampion, EvaluationChampion, "CORRUPT_STATE", "evaluation champion")).version;
}

/** What a site needs to score the champion the run's evaluation compares with. */
export async function championTask(deps: CoordinatorDeps): Promise<ChampionModel | undefined> {
  const version = await evaluationChampion(deps);
  return version === null ? undefined : championModel(deps, version);
}
