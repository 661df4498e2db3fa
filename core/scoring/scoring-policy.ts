/**
 * @module
 * Keep, down-weight or quarantine: turns one round's scores and the sites' reputations into the
 * next reputations and a decision per site, each with the numbers that led to it.
 *
 * Calibrated on real non-IID federations (heart-disease's four hospitals, wdbc over ten Dirichlet
 * sites; see README "Contribution scoring"): honest updates agree in the first round (cohort
 * coherence 0.75–0.8) and stop agreeing once each site pulls to its own optimum (0.1–0.45), while
 * an honest site with unusual patients (Switzerland, 98 % positive) drifts to 5× the median norm
 * over 20 rounds. So a site is judged on direction and moderate size only in coherent rounds of
 * the opening window (until the first incoherent round: after it, an attacker readmitted from
 * quarantine plus an unusual honest site can look like a coherent majority against another honest
 * one), on gross size and on its validation gain in any round; a round that says nothing leaves
 * reputations alone: looking honest in an uninformative round is not evidence of honesty.
 */
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { siteReputation, type Reputation, type SiteReputation } from "./reputation.ts";
import type { RoundScoring } from "./score-updates.ts";

export const ScoringOptions = z.object({
  /** A round whose cohort coherence is at least this is informative: direction and moderate size count. */
  minCoherence: z.number().min(-1).max(1).default(0.5),
  /**
   * A later round is coherent only at this share of the opening round's coherence or more: the
   * window is the stretch where the cohort agrees as it did at the start (on wdbc a second round
   * scored 0.51 after an opening 0.80, with honest sites pointing apart).
   */
  keepCoherence: z.number().min(0).max(1).default(0.8),
  /** In an informative round, an update whose alignment is this far below the coherence looks dishonest. */
  maxMisalignment: z.number().positive().max(2).default(0.5),
  /** In an informative round, an update above this many times the cohort's median norm looks dishonest. */
  maxNorm: z.number().gt(1).default(4),
  /** In any round, an update above this many times the cohort's median norm looks dishonest. */
  hardMaxNorm: z.number().gt(1).default(25),
  /** With a validation set, an update whose marginal gain is below this (−0.02: the model is 2 % better without it) looks dishonest, in any round. */
  minGain: z.number().max(0).default(-0.02),
  /** Weight of the previous reputation in the moving average (reputation ← ema·old + (1 − ema)·honest). */
  ema: z.number().min(0).lt(1).default(0.5),
  /** A reputation below this quarantines the site (with the defaults, one flag from a clean record). */
  quarantineBelow: z.number().min(0).max(1).default(0.6),
  /** Rounds a quarantined site is left out of the aggregate. */
  quarantineRounds: z.number().int().min(1).max(10000).default(5),
});
export type ScoringOptions = z.infer<typeof ScoringOptions>;
export type ScoringOptionsInput = z.input<typeof ScoringOptions>;

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
  decide(state: Reputation, round: number, scoring: RoundScoring): { state: Reputation; decisions: ScoringDecision[] };
}

const fmt = (x: number) => (Math.abs(x) >= 1e4 ? x.toExponential(1) : String(Math.round(x * 100) / 100));

/**
 * A scoring policy with validated hyperparameters (defaults: informative rounds from coherence 0.5;
 * flag alignment 0.5 below the coherence or a norm above 4× the median there, and above 25× in any
 * round; EMA 0.5; quarantine for 5 rounds below reputation 0.6).
 *
 * @example
 * const { state, decisions } = createScoringPolicy().decide(previous, 4, scoreUpdates(updates, aggregate, excluded));
 */
export function createScoringPolicy(input: ScoringOptionsInput = {}): ScoringPolicy {
  const parsed = ScoringOptions.safeParse(input);
  if (!parsed.success) throw new ConfigError(`scoring: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const options = parsed.data;
  return {
    options,
    decide(state, round, { coherence, scores }) {
      const open = state.directionClosedAt === undefined;
      const opening = state.openingCoherence;
      const coherent = open && coherence !== null && coherence >= options.minCoherence && (opening === undefined || coherence >= options.keepCoherence * opening);
      const directionClosedAt = state.directionClosedAt ?? (coherence !== null && !coherent ? round : undefined);
      const openingCoherence = opening ?? (coherent ? coherence : undefined);
      const sites: Record<string, SiteReputation> = { ...state.sites };
      const decisions = scores.map((score) => {
        const before = siteReputation(state, score.siteId);
        // A measured validation gain is evidence in any round; direction and moderate size only in a coherent one.
        const informative = coherent || score.gain !== undefined;
        const flags = [
          ...(coherent && score.alignment < coherence - options.maxMisalignment
            ? [`alignment ${fmt(score.alignment)} with the cohort (coherence ${fmt(coherence)})`]
            : []),
          ...((coherent && score.norm > options.maxNorm) || score.norm > options.hardMaxNorm ? [`norm ${fmt(score.norm)}× the cohort's median`] : []),
          ...(score.gain !== undefined && score.gain < options.minGain ? [`validation loss ${fmt(-100 * score.gain)} % lower without it`] : []),
        ];
        const reputation =
          flags.length > 0 ? options.ema * before.reputation : informative ? options.ema * before.reputation + (1 - options.ema) : before.reputation;
        const seen =
          flags.length > 0
            ? `${flags.join(", ")} in round ${round}`
            : coherent
              ? `scores within bounds in round ${round} (coherence ${fmt(coherence)})`
              : informative
                ? `validation gain ${fmt(100 * (score.gain ?? 0))} % within bounds in round ${round}`
              : open
                ? `round ${round} uninformative (coherence ${coherence === null ? "unknown" : fmt(coherence)} below ${fmt(Math.max(options.minCoherence, options.keepCoherence * (opening ?? 0)))}), norm within bounds`
                : `round ${round}: direction uninformative since round ${directionClosedAt}, norm within bounds`;
        let next: SiteReputation;
        let decision: ScoringDecision;
        if (reputation < options.quarantineBelow && flags.length > 0) {
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
      return {
        state: { round, sites, ...(directionClosedAt !== undefined && { directionClosedAt }), ...(openingCoherence !== undefined && { openingCoherence }) },
        decisions,
      };
    },
  };
}
