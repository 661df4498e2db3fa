/**
 * @module
 * Each site's standing across rounds, a plain JSON value the coordinator stores after each round
 * (`rounds/{r}/reputation.json`) and passes back in: no hidden state between invocations.
 */
import { z } from "zod";
import type { SiteUpdate } from "../strategy/strategy.ts";

export const SiteReputation = z.object({
  /** Exponential moving average of the per-round "looks honest" indicator; 1 for a new site. */
  reputation: z.number().min(0).max(1),
  /** The last round the site's updates are left out of the aggregate; 0 when never quarantined. */
  quarantinedUntil: z.number().int().nonnegative(),
});
export type SiteReputation = z.infer<typeof SiteReputation>;

export const Reputation = z.object({
  /** The round whose scores this state includes; 0 before any. */
  round: z.number().int().nonnegative(),
  sites: z.record(z.string(), SiteReputation),
  /**
   * The first round whose cohort was incoherent: from then on honest updates of a non-IID
   * federation point apart, and direction no longer tells an attacker from an unusual hospital.
   */
  directionClosedAt: z.number().int().positive().optional(),
  /** The coherence of the first coherent round, which later rounds are held to. */
  openingCoherence: z.number().min(-1).max(1).optional(),
});
export type Reputation = z.infer<typeof Reputation>;

export const initialReputation: Reputation = { round: 0, sites: {} };

const fresh: SiteReputation = { reputation: 1, quarantinedUntil: 0 };

/** A site's standing, a fresh one for a site never scored. */
export function siteReputation(state: Reputation, siteId: string): SiteReputation {
  return state.sites[siteId] ?? fresh;
}

/**
 * What a site's sample weight is multiplied by in `round`: 0 while quarantined, its reputation
 * otherwise (1 for a site never flagged).
 */
export function weightFactor(state: Reputation, siteId: string, round: number): number {
  const s = siteReputation(state, siteId);
  return round <= s.quarantinedUntil ? 0 : s.reputation;
}

/**
 * The updates that go into round `round`'s aggregate, each weight times its site's factor, and the
 * sites left out because they are in quarantine.
 */
export function applyReputation(state: Reputation, updates: readonly SiteUpdate[], round: number): { kept: SiteUpdate[]; excluded: string[] } {
  const kept: SiteUpdate[] = [];
  const excluded: string[] = [];
  for (const u of updates) {
    const factor = weightFactor(state, u.siteId, round);
    if (factor === 0) excluded.push(u.siteId);
    else kept.push(factor === 1 ? u : { ...u, weight: u.weight * factor });
  }
  return { kept, excluded };
}
