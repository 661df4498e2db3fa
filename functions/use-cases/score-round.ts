import { ConsiliumError } from "../../core/errors.ts";
import { createScoringPolicy, initialReputation, Reputation, RoundScores, scoreUpdates } from "../../core/scoring/index.ts";
import type { SiteUpdate } from "../../core/strategy/strategy.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { readJson, writeJson } from "../repo.ts";

/** Beside the round's record: write-once, so a redelivered job finds what the first delivery wrote. */
export const scoringKeys = {
  reputation: (r: number) => keys.round(r).replace(/round\.json$/, "reputation.json"),
  scores: (r: number) => keys.round(r).replace(/round\.json$/, "scores.json"),
};

/**
 * The reputations that came with model `baseVersion`, written by the round that produced it. Model
 * 0 starts everyone fresh; a missing state later is corrupt, not a fresh start, which would let a
 * quarantined site back in.
 */
export async function loadReputation(deps: CoordinatorDeps, baseVersion: number): Promise<Reputation> {
  if (baseVersion === 0) return initialReputation;
  const key = scoringKeys.reputation(baseVersion);
  const state = await readJson(deps.store, key, Reputation);
  if (state === null) throw new ConsiliumError("CORRUPT_STATE", `reputation ${key} of model ${baseVersion} is missing`, 500);
  return state;
}

/**
 * Scores every verified update of `round` against the aggregate delta (model − global), folds the
 * scores into the reputations and writes both, write-once.
 */
export async function scoreRound(
  deps: CoordinatorDeps,
  round: number,
  reputation: Reputation,
  updates: readonly SiteUpdate[],
  excluded: readonly string[],
  model: Float32Array,
  global: Float32Array,
): Promise<RoundScores> {
  const aggregate = Float32Array.from(model, (x, i) => x - global[i]!);
  const scores = scoreUpdates(updates, aggregate);
  const { state, decisions } = createScoringPolicy().decide(reputation, round, scores);
  const record: RoundScores = { round, excluded: [...excluded], scores, decisions };
  await writeJson(deps.store, scoringKeys.scores(round), record, { ifAbsent: true });
  await writeJson(deps.store, scoringKeys.reputation(round), state, { ifAbsent: true });
  return record;
}
