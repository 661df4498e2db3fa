/**
 * @module
 * Keep, down-weight or quarantine: turns one round's scores and the sites' reputations into the
 * next reputations and a decision per site, each with the numbers that led to it.
 */
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { siteReputation, type Reputation, type SiteReputation } from "./reputation.ts";
import type { SiteScore } from "./score-updates.ts";

export const ScoringOptions = z.object({
  /** An update further than this many times the median distance from the centre looks dishonest. */
  maxDistance: z.number().positive().default(4),
  /** An update whose cosine with the aggregate is below this looks dishonest. */
  minAgreement: z.number().min(-1).max(1).default(-0.2),
  /** Weight of the previous reputation in the moving average (reputation ← ema·old + (1 − ema)·honest). */
  ema: z.number().min(0).lt(1).default(0.5),
  /** A reputation below this quarantines the site. */
  quarantineBelow: z.number().min(0).max(1).default(0.5),
  /** Rounds a quarantined site is left out of the aggregate. */
  quarantineRounds: z.number().int().min(1).max(10000).default(3),
});
export type ScoringOptions = z.infer<typeof ScoringOptions>;

export const ScoringDecision = z.object({
  siteId: z.string(),
  /** What happens to the site's updates from the next round on. */
  action: z.enum(["keep", "down-weight", "quarantine"]),
  /** Its sample weight's multiplier from the next round on (0 in quarantine). */
  factor: z.number().min(0).max(1),
  reason: z.string(),
});
export type ScoringDecision = z.infer<typeof ScoringDecision>;

export interface ScoringPolicy {
  readonly options: ScoringOptions;
  /** Folds round `round`'s scores into `state`; sites without a score this round keep their standing. */
  decide(state: Reputation, round: number, scores: readonly SiteScore[]): { state: Reputation; decisions: ScoringDecision[] };
}

const fmt = (x: number) => (Math.abs(x) >= 1e4 ? x.toExponential(1) : String(Math.round(x * 100) / 100));

/**
 * A scoring policy with validated hyperparameters (defaults: flag beyond distance 4 or below
 * agreement −0.2, EMA 0.5, quarantine for 3 rounds below reputation 0.5).
 *
 * @example
 * const { state, decisions } = createScoringPolicy().decide(previous, 4, scoreUpdates(updates, aggregate));
 */
export function createScoringPolicy(input: z.input<typeof ScoringOptions> = {}): ScoringPolicy {
  const parsed = ScoringOptions.safeParse(input);
  if (!parsed.success) throw new ConfigError(`scoring: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const options = parsed.data;
  return {
    options,
    decide(state, round, scores) {
      const sites: Record<string, SiteReputation> = { ...state.sites };
      const decisions = scores.map((score) => {
        const before = siteReputation(state, score.siteId);
        const flags = [
          ...(score.distance > options.maxDistance ? [`distance ${fmt(score.distance)}× the median`] : []),
          ...(score.agreement < options.minAgreement ? [`agreement ${fmt(score.agreement)} with the aggregate`] : []),
        ];
        const reputation = options.ema * before.reputation + (1 - options.ema) * (flags.length === 0 ? 1 : 0);
        const seen = flags.length === 0 ? `scores within bounds in round ${round}` : `${flags.join(", ")} in round ${round}`;
        let next: SiteReputation;
        let decision: ScoringDecision;
        if (reputation < options.quarantineBelow) {
          next = { reputation, quarantinedUntil: round + options.quarantineRounds };
          decision = { siteId: score.siteId, action: "quarantine", factor: 0, reason: `${seen}; reputation ${fmt(reputation)} < ${options.quarantineBelow}: quarantined until round ${next.quarantinedUntil}` };
        } else if (before.quarantinedUntil > round) {
          next = { reputation, quarantinedUntil: before.quarantinedUntil };
          decision = { siteId: score.siteId, action: "quarantine", factor: 0, reason: `${seen}; reputation ${fmt(reputation)}; still quarantined until round ${next.quarantinedUntil}` };
        } else {
          next = { reputation, quarantinedUntil: before.quarantinedUntil };
          decision =
            reputation >= 1
              ? { siteId: score.siteId, action: "keep", factor: 1, reason: `${seen}; reputation 1` }
              : { siteId: score.siteId, action: "down-weight", factor: reputation, reason: `${seen}; reputation ${fmt(reputation)}: weight × ${fmt(reputation)}` };
        }
        sites[score.siteId] = next;
        return decision;
      });
      return { state: { round, sites }, decisions };
    },
  };
}
