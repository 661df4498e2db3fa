/**
 * @module
 * Contribution scoring: per-round scores of each site's update, a reputation across rounds and the
 * policy that keeps, down-weights or quarantines a site. Pure: no I/O, typed arrays in.
 */
export { Reputation, SiteReputation, applyReputation, initialReputation, siteReputation, weightFactor } from "./reputation.ts";
export { MIN_COHORT, RoundScoring, SiteScore, scoreUpdates } from "./score-updates.ts";
export { ScoringDecision, ScoringOptions, createScoringPolicy, type ScoringOptionsInput, type ScoringPolicy } from "./scoring-policy.ts";
export { RoundScores } from "./round-scores.ts";
