/**
 * @module
 * Each model version as the sites measured it: a round's updates report the model the round
 * started from on each site's held-out rows, so version v is measured by the first round that
 * started from it (a skipped round's successor starts from the same version, and measures it
 * again: the first measurement stands).
 */
import type { ClinicalMetrics } from "../metrics/clinical-metrics.ts";
import type { FederationStatus } from "../schemas/status.ts";

export interface MeasuredVersions {
  /** Pooled over the round's fresh updates, by version. */
  readonly pooled: Map<number, ClinicalMetrics>;
  /** Each site's AUROC, by version, from a status read with `perSite` (empty without it). */
  readonly sites: Map<number, Map<string, number | null>>;
}

/** The first measurement of each version in the status's rounds, whatever order the log lists them in. */
export function measuredVersions(roundLog: FederationStatus["roundLog"]): MeasuredVersions {
  const pooled = new Map<number, ClinicalMetrics>();
  const sites = new Map<number, Map<string, number | null>>();
  for (const r of [...roundLog].sort((a, b) => a.round - b.round)) {
    if (r.baseModel && !pooled.has(r.baseVersion)) pooled.set(r.baseVersion, r.baseModel);
    // An asynchronous update trained from an older version measured that one, not the round's.
    const fresh = (r.sites ?? []).filter((s) => s.baseVersion === undefined && s.auroc !== undefined);
    if (fresh.length > 0 && !sites.has(r.baseVersion)) sites.set(r.baseVersion, new Map(fresh.map((s) => [s.siteId, s.auroc ?? null])));
  }
  return { pooled, sites };
}
