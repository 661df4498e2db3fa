import type { FeatureSpec } from "../schemas/feature-spec.ts";
import type { FeatureStats, SiteStats } from "../schemas/site-stats.ts";
import { binOf, histogramBins } from "./histogram.ts";
import { labelOf } from "./label.ts";
import { canonicalLevel, columnIndex, isMissing, numericValue, type Table } from "./table.ts";

/**
 * A site's contribution to the consortium's preprocessing: counts and moments of its labelled
 * rows (Welford's online mean and M2), which merge exactly across sites, and a histogram over the
 * feature's range where the spec declares one. A feature whose column this site lacks counts as
 * missing in every row: the site provides no value of it (what the consortium's agreement on
 * features reads), and imputes it like any missing value.
 */
export function computeSiteStats(table: Table, spec: FeatureSpec, options: { readonly bounded?: boolean } = {}): SiteStats {
  // Bounded (for noisy statistics): numbers clipped into their declared range, levels outside the declared ones missing.
  const labelCol = columnIndex(table, spec.label.column);
  const labelled = table.rows.filter((r) => labelOf(r[labelCol] ?? "", spec.label, spec.missingTokens) !== null);
  const positives = labelled.filter((r) => labelOf(r[labelCol] ?? "", spec.label, spec.missingTokens)! > 0).length;
  const features: Record<string, FeatureStats> = {};
  for (const f of spec.features) {
    const col = table.columns.indexOf(f.column);
    let missing = 0;
    if (f.type === "numeric") {
      let count = 0;
      let mean = 0;
      let m2 = 0;
      let zeros = 0;
      const bins = histogramBins(f);
      const histogram = bins ? new Array<number>(bins.bins).fill(0) : undefined;
      for (const row of labelled) {
        const raw = col < 0 ? "" : (row[col] ?? "");
        let x = numericValue(raw);
        if (col < 0 || isMissing(raw, spec.missingTokens, f.missing) || !Number.isFinite(x)) {
          missing++;
          continue;
        }
        count++;
        if (x === 0) zeros++;
        if (options.bounded && f.range) x = Math.min(f.range.max, Math.max(f.range.min, x));
        if (histogram && bins) {
          const b = binOf(x, bins);
          histogram[b] = (histogram[b] ?? 0) + 1;
        }
        const d = x - mean;
        mean += d / count;
        m2 += d * (x - mean);
      }
      features[f.name] = { kind: "numeric", count, mean, m2, missing, zeros, ...(histogram && { histogram }) };
    } else {
      // No prototype: a level called "constructor" or "toString" is a level, not an inherited method.
      const counts: Record<string, number> = Object.create(null);
      const declared = f.levels && new Set(f.levels.map(canonicalLevel));
      if (options.bounded && declared) for (const level of declared) counts[level] = 0;
      for (const row of labelled) {
        const raw = col < 0 ? "" : (row[col] ?? "");
        const level = canonicalLevel(raw);
        if (col < 0 || isMissing(raw, spec.missingTokens, f.missing) || (options.bounded && declared && !declared.has(level))) {
          missing++;
          continue;
        }
        counts[level] = (counts[level] ?? 0) + 1;
      }
      features[f.name] = { kind: "categorical", counts, missing };
    }
  }
  return { rows: labelled.length, positives, features };
}

/**
 * The site's statistics with what its data model refused as out of range (FHIR sources: count and
 * mean per numeric feature, over all the site's readings), for the data-quality checks.
 */
export function withOutOfRange(stats: SiteStats, outOfRange?: Readonly<Record<string, { readonly count: number; readonly mean: number }>>): SiteStats {
  if (!outOfRange) return stats;
  const features = { ...stats.features };
  for (const [name, refused] of Object.entries(outOfRange)) {
    const f = features[name];
    if (f?.kind === "numeric" && refused.count > 0) features[name] = { ...f, outOfRange: { count: refused.count, mean: refused.mean } };
  }
  return { ...stats, features };
}
