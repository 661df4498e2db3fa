/**
 * @module
 * The promotion gate: whether a registered candidate replaces the champion, from both models'
 * counts at every site on the site's most recent held-out rows. Pure; the caller records the
 * decision and moves the champion pointer.
 */
import type { z } from "zod";
import { mergeCounts } from "../metrics/merge-counts.ts";
import type { SiteCounts } from "./federated-evaluation.ts";
import type { GateDecision, GateRule } from "./gate-decision.ts";
import { GatePolicy } from "./gate-policy.ts";
import { calibrationRule, chanceRule, comparableRule, improvementRule, pooledAurocRule, siteSensitivityRule, withinSiteRule } from "./gate-rules.ts";
import { evaluateCounts, type ModelEvaluation } from "./model-evaluation.ts";

/** What the gate judges: both models' counts by site, the champion's pooled evaluation when it was promoted, the policy. */
export interface PromotionInput {
  readonly candidate: SiteCounts;
  /** `null` for the first version, which only has to beat chance. */
  readonly champion: SiteCounts | null;
  /** The champion's pooled evaluation when it was promoted, to tell whether it has degraded since. */
  readonly championBaseline?: ModelEvaluation;
  /** `GatePolicy` before defaults; every default when absent. */
  readonly policy?: z.input<typeof GatePolicy>;
}

/**
 * Judges a candidate against the champion on the rows of the sites that evaluated both: pooled
 * AUROC, per-site sensitivity at the operating threshold, pooled calibration, and then whether
 * the candidate is better or the champion has degraded. Promotes when every rule passes. A first
 * version (no champion) is promoted when its pooled AUROC and the lower bound of its 95 % DeLong
 * interval are above 0.5, the same holds within the sites (`withinSiteRule`), and its ECE is under
 * `maxEce`, if set. Deterministic: the same input
 * gives the same decision. Throws only for a caller's mistake (no candidate counts, sites with
 * different bins, a threshold off the bins' edges).
 *
 * @example
 * const decision = decidePromotion({ candidate: { "site-a": a1, "site-b": b1 }, champion: { "site-a": a0, "site-b": b0 } });
 * decision.reason; // "champion kept: pooled AUROC 0.612 against the champion's 0.884: down 0.272, …"
 */
export function decidePromotion(input: PromotionInput): GateDecision {
  const policy = GatePolicy.parse(input.policy ?? {});
  const pool = (sites: SiteCounts, ids: readonly string[]) => evaluateCounts(mergeCounts(ids.map((id) => sites[id]!)), policy.threshold);
  const candidateIds = Object.keys(input.candidate).sort();
  if (input.champion === null) {
    const candidate = pool(input.candidate, candidateIds);
    const rules = [chanceRule(candidate), withinSiteRule(candidateIds.map((id) => input.candidate[id]!)), ...(policy.maxEce === undefined ? [] : [calibrationRule(candidate, null, policy)])];
    return decided(rules, candidate, null, candidateIds, [], "not promoted");
  }
  const champion = input.champion;
  const championIds = Object.keys(champion).sort();
  const sites = candidateIds.filter((id) => champion[id] !== undefined);
  const leftOut = [...candidateIds, ...championIds].filter((id) => !sites.includes(id)).sort();
  const comparable = comparableRule(sites, leftOut);
  if (sites.length === 0) {
    const held = championIds.length === 0 ? null : pool(champion, championIds);
    return decided([comparable], pool(input.candidate, candidateIds), held, sites, leftOut, "champion kept");
  }
  const a = pool(input.candidate, sites);
  const b = pool(champion, sites);
  const rules = [
    comparable,
    pooledAurocRule(a, b, policy),
    siteSensitivityRule(sites, input.candidate, champion, policy),
    calibrationRule(a, b, policy),
    improvementRule(a, b, input.championBaseline, policy),
  ];
  return decided(rules, a, b, sites, leftOut, "champion kept");
}

function decided(
  rules: GateRule[],
  candidate: ModelEvaluation,
  champion: ModelEvaluation | null,
  sites: readonly string[],
  leftOut: readonly string[],
  kept: string,
): GateDecision {
  const failed = rules.filter((r) => !r.passed);
  const promote = failed.length === 0;
  // A passing candidate wins by beating chance (first version) or by the improvement rule.
  const why = rules.find((r) => r.rule === "improvement" || r.rule === "chance");
  const reason = promote ? `promoted: ${why?.reason}` : `${kept}: ${failed.map((r) => r.reason).join("; ")}`;
  return { promote, reason, rules, candidate, champion, sites: [...sites], leftOut: [...leftOut] };
}
