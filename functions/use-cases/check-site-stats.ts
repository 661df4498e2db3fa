import { ConsiliumError } from "../../core/errors.ts";
import { histogramBins } from "../../core/preprocess/histogram.ts";
import { canonicalLevel } from "../../core/preprocess/table.ts";
import type { FeatureSpec } from "../../core/schemas/feature-spec.ts";
import type { SiteStats } from "../../core/schemas/site-stats.ts";

/**
 * The largest magnitude a numeric feature's mean may have, and its spread (√(m2 / count)): far
 * past any clinical measurement, and small enough that merging any number of sites' moments
 * stays finite (a squared difference of means, times a safe-integer count, is below 1e47).
 */
export const MAX_MOMENT = 1e15;

/** Levels one categorical feature may report: more is a free-text column, or a flood of keys. */
export const MAX_LEVELS = 1000;

/**
 * What is wrong with a site's statistics, or null: every feature must account for every row
 * (values + missing) and a histogram for every value, positives cannot outnumber rows, moments
 * must be finite, and a histogram must have the spec's bins. Statistics that break these would
 * skew the consortium's one preprocessing for every site. Noisy statistics (`noisy`) cannot add
 * up exactly; their categorical levels must be the declared ones.
 */
export function statsProblem(stats: SiteStats, options: { readonly noisy?: boolean; readonly spec?: FeatureSpec } = {}): string | null {
  if (stats.positives > stats.rows) return `${stats.positives} positives but only ${stats.rows} rows`;
  const exact = !options.noisy;
  for (const [name, f] of Object.entries(stats.features)) {
    const def = options.spec?.features.find((d) => d.name === name);
    if (f.kind === "numeric") {
      if (!Number.isFinite(f.mean) || !Number.isFinite(f.m2)) return `feature "${name}" has a mean or m2 that is not finite`;
      if (Math.abs(f.mean) > MAX_MOMENT || f.m2 < 0 || f.m2 > f.count * MAX_MOMENT ** 2) {
        return `feature "${name}" has a mean or spread beyond ${MAX_MOMENT} (mean ${f.mean}, m2 ${f.m2} over ${f.count} values)`;
      }
      if (exact && f.count + f.missing !== stats.rows) return `feature "${name}" counts ${f.count} values and ${f.missing} missing, not the ${stats.rows} rows`;
      const bins = def && histogramBins(def);
      if (def?.impute === "median" && bins && f.count > 0 && !f.histogram) return `feature "${name}" is imputed with its median but its statistics hold no histogram`;
      if (f.histogram && bins && f.histogram.length !== bins.bins) return `feature "${name}" has a histogram of ${f.histogram.length} bins, not the spec's ${bins.bins}`;
      const binned = f.histogram?.reduce((a, b) => a + b, 0);
      if (exact && binned !== undefined && binned !== f.count) return `feature "${name}" has ${binned} values in its histogram, not its ${f.count}`;
      if (f.zeros !== undefined && f.zeros > f.count) return `feature "${name}" counts ${f.zeros} zeros among ${f.count} values`;
      if (f.outOfRange !== undefined && !Number.isFinite(f.outOfRange.mean)) return `feature "${name}" has an out-of-range mean that is not finite`;
    } else {
      const levels = Object.values(f.counts);
      if (levels.length > MAX_LEVELS) return `feature "${name}" has ${levels.length} levels, more than ${MAX_LEVELS}`;
      const values = levels.reduce((a, b) => a + b, 0);
      const undeclared = options.noisy && def?.levels ? Object.keys(f.counts).filter((l) => !def.levels?.map(canonicalLevel).includes(l)) : [];
      if (undeclared.length > 0) return `feature "${name}" reports levels the spec does not declare: ${undeclared.slice(0, 5).join(", ")}`;
      if (exact && values + f.missing !== stats.rows) return `feature "${name}" counts ${values} values and ${f.missing} missing, not the ${stats.rows} rows`;
    }
  }
  return null;
}

export function assertConsistentStats(stats: SiteStats, options: { readonly noisy?: boolean; readonly spec?: FeatureSpec } = {}): void {
  const problem = statsProblem(stats, options);
  if (problem !== null) throw new ConsiliumError("BAD_STATS", `statistics are inconsistent: ${problem}`, 422);
}
