import type { FeatureSpec } from "../schemas/feature-spec.ts";
import type { FeatureStats, SiteStats } from "../schemas/site-stats.ts";
import { labelOf } from "./label.ts";
import { canonicalLevel, columnIndex, isMissing, numericValue, type Table } from "./table.ts";

/**
 * A site's contribution to the consortium's preprocessing: counts and moments of its labelled
 * rows (Welford's online mean and M2), which merge exactly across sites.
 */
export function computeSiteStats(table: Table, spec: FeatureSpec): SiteStats {
  const labelCol = columnIndex(table, spec.label.column);
  const labelled = table.rows.filter((r) => labelOf(r[labelCol] ?? "", spec.label, spec.missingTokens) !== null);
  const positives = labelled.filter((r) => labelOf(r[labelCol] ?? "", spec.label, spec.missingTokens) === 1).length;
  const features: Record<string, FeatureStats> = {};
  for (const f of spec.features) {
    const col = columnIndex(table, f.column);
    let missing = 0;
    if (f.type === "numeric") {
      let count = 0;
      let mean = 0;
      let m2 = 0;
      let zeros = 0;
      for (const row of labelled) {
        const raw = row[col] ?? "";
        const x = numericValue(raw);
        if (isMissing(raw, spec.missingTokens, f.missing) || !Number.isFinite(x)) {
          missing++;
          continue;
        }
        count++;
        if (x === 0) zeros++;
        const d = x - mean;
        mean += d / count;
        m2 += d * (x - mean);
      }
      features[f.name] = { kind: "numeric", count, mean, m2, missing, zeros };
    } else {
      // No prototype: a level called "constructor" or "toString" is a level, not an inherited method.
      const counts: Record<string, number> = Object.create(null);
      for (const row of labelled) {
        const raw = row[col] ?? "";
        if (isMissing(raw, spec.missingTokens, f.missing)) {
          missing++;
          continue;
        }
        const level = canonicalLevel(raw);
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
