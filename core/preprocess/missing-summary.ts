/**
 * @module
 * How many values of each feature a site's labelled rows lack, and what stands in for them, as
 * one summary a run prints: nobody should learn afterwards that 40 % of a column was imputed.
 */
import type { FeatureSpec } from "../schemas/feature-spec.ts";
import type { SiteStats } from "../schemas/site-stats.ts";

/** A feature's missing share at or above this is worth its own warning. */
export const HIGH_MISSING_SHARE = 0.3;

/** One feature's missing values among the labelled rows. */
export interface MissingShare {
  readonly feature: string;
  readonly missing: number;
  readonly rows: number;
  /** What replaces a missing value: `mean` (with a missing-value indicator input), `median`, or `most frequent level`. */
  readonly imputed: string;
}

/** Features with at least one missing value, most missing first; a column the rows lack altogether is not listed (it is said elsewhere). */
export function missingShares(stats: SiteStats, spec: FeatureSpec, absent: readonly string[] = []): MissingShare[] {
  const out: MissingShare[] = [];
  for (const f of spec.features) {
    const s = stats.features[f.name];
    if (!s || s.missing === 0 || absent.includes(f.name)) continue;
    const imputed = f.type === "categorical" ? "most frequent level" : f.impute === "median" ? "median" : "mean";
    out.push({ feature: f.name, missing: s.missing, rows: stats.rows, imputed });
  }
  return out.sort((a, b) => b.missing / b.rows - a.missing / a.rows || a.feature.localeCompare(b.feature));
}

const pct = (m: MissingShare) => `${((100 * m.missing) / Math.max(1, m.rows)).toFixed(1)} %`;

/** One summary line (or a line saying nothing is missing), then a warning line per feature missing at or above HIGH_MISSING_SHARE. */
export function missingLines(shares: readonly MissingShare[], where = ""): string[] {
  const prefix = where === "" ? "" : `${where}: `;
  if (shares.length === 0) return [`${prefix}no missing values in the features`];
  const lines = [`${prefix}missing values, imputed with the consortium's statistics: ${shares.map((m) => `${m.feature} ${pct(m)} (${m.imputed})`).join(", ")}`];
  for (const m of shares) {
    if (m.missing / m.rows >= HIGH_MISSING_SHARE) lines.push(`${prefix}${m.feature} is missing in ${m.missing} of ${m.rows} rows (${pct(m)}); every one of them gets the consortium's ${m.imputed}`);
  }
  return lines;
}
