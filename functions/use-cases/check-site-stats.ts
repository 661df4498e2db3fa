import { ConsiliumError } from "../../core/errors.ts";
import type { SiteStats } from "../../core/schemas/site-stats.ts";

/** Levels one categorical feature may report: more is a free-text column, or a flood of keys. */
export const MAX_LEVELS = 1000;

/**
 * What is wrong with a site's statistics, or null: every feature must account for every row
 * (values + missing), positives cannot outnumber rows, and moments must be finite. Statistics
 * that break these would skew the consortium's one preprocessing for every site.
 */
export function statsProblem(stats: SiteStats): string | null {
  if (stats.positives > stats.rows) return `${stats.positives} positives but only ${stats.rows} rows`;
  for (const [name, f] of Object.entries(stats.features)) {
    if (f.kind === "numeric") {
      if (!Number.isFinite(f.mean) || !Number.isFinite(f.m2)) return `feature "${name}" has a mean or m2 that is not finite`;
      if (f.count + f.missing !== stats.rows) return `feature "${name}" counts ${f.count} values and ${f.missing} missing, not the ${stats.rows} rows`;
      if (f.zeros !== undefined && f.zeros > f.count) return `feature "${name}" counts ${f.zeros} zeros among ${f.count} values`;
      if (f.outOfRange !== undefined && !Number.isFinite(f.outOfRange.mean)) return `feature "${name}" has an out-of-range mean that is not finite`;
    } else {
      const levels = Object.values(f.counts);
      if (levels.length > MAX_LEVELS) return `feature "${name}" has ${levels.length} levels, more than ${MAX_LEVELS}`;
      const values = levels.reduce((a, b) => a + b, 0);
      if (values + f.missing !== stats.rows) return `feature "${name}" counts ${values} values and ${f.missing} missing, not the ${stats.rows} rows`;
    }
  }
  return null;
}

export function assertConsistentStats(stats: SiteStats): void {
  const problem = statsProblem(stats);
  if (problem !== null) throw new ConsiliumError("BAD_STATS", `statistics are inconsistent: ${problem}`, 422);
}
