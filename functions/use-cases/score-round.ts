import { ConsiliumError } from "../../core/errors.ts";
import { createScoringPolicy, initialReputation, Reputation, RoundScores, scoreUpdates, siteReputation, type ScoringOptionsInput } from "../../core/scoring/index.ts";
import type { Layout } from "../../core/model/layout.ts";
import { validationLoss } from "../../core/model/validation-loss.ts";
import type { Preprocessing } from "../../core/schemas/preprocessing.ts";
import { marginalGains } from "../../core/scoring/validation-gain.ts";
import type { SiteUpdate, Strategy, StrategyState } from "../../core/strategy/strategy.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { readJson, writeJson } from "../repo.ts";
import { loadValidationData } from "./validation-set.ts";

/**
 * The reputations that came with model `baseVersion`, written by the round that produced it. Model
 * 0 starts everyone fresh; a missing state later is corrupt, not a fresh start, which would let a
 * quarantined site back in.
 */
export async function loadReputation(deps: CoordinatorDeps, baseVersion: number): Promise<Reputation> {
  if (baseVersion === 0) return initialReputation;
  const key = keys.reputation(baseVersion);
  const state = await readJson(deps.store, key, Reputation);
  if (state === null) throw new ConsiliumError("CORRUPT_STATE", `reputation ${key} of model ${baseVersion} is missing`, 500);
  return state;
}

/** What the aggregate job hands over to scoring: the round as aggregated. */
export interface ScoredRound {
  readonly round: number;
  readonly reputation: Reputation;
  /** Every verified update, quarantined sites' included. */
  readonly updates: readonly SiteUpdate[];
  /** The updates in the aggregate with the weights used, and the sites left out. */
  readonly kept: readonly SiteUpdate[];
  readonly excluded: readonly string[];
  readonly strategy: Strategy;
  readonly state: StrategyState;
  readonly global: Float32Array;
  readonly model: Float32Array;
  readonly layout: Layout;
  readonly prep: Preprocessing;
  /** The federation's policy thresholds. */
  readonly options?: ScoringOptionsInput;
}

/**
 * Scores every verified update of the round against its trusted cohort and its aggregate delta
 * (model − global) and, when the coordinator holds a validation set, by its marginal gain on it;
 * folds the scores into the reputations with the federation's policy and writes both, write-once.
 */
export async function scoreRound(deps: CoordinatorDeps, r: ScoredRound): Promise<RoundScores> {
  const aggregate = Float32Array.from(r.model, (x, i) => x - r.global[i]!);
  const policy = createScoringPolicy(r.options);
  // Sites in quarantine, or readmitted on probation, are scored but do not define the centre.
  const untrusted = r.updates.filter((u) => r.excluded.includes(u.siteId) || siteReputation(r.reputation, u.siteId).reputation < policy.options.quarantineBelow);
  const scoring = scoreUpdates(r.updates, aggregate, untrusted.map((u) => u.siteId));
  const validation = await loadValidationData(deps, r.prep);
  if (validation) {
    const gains = marginalGains({
      strategy: r.strategy,
      state: r.state,
      global: r.global,
      kept: r.kept,
      excluded: r.updates.filter((u) => r.excluded.includes(u.siteId)),
      model: r.model,
      loss: (body) => validationLoss(r.layout, body, validation),
    });
    scoring.scores = scoring.scores.map((s) => (gains.has(s.siteId) ? { ...s, gain: gains.get(s.siteId) } : s));
  }
  const { state, decisions } = policy.decide(r.reputation, r.round, scoring);
  const record: RoundScores = { round: r.round, excluded: [...r.excluded], coherence: scoring.coherence, scores: scoring.scores, decisions };
  await writeJson(deps.store, keys.roundScores(r.round), record, { ifAbsent: true });
  await writeJson(deps.store, keys.reputation(r.round), state, { ifAbsent: true });
  return record;
}
