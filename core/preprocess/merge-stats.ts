import type { FeatureSpec } from "../schemas/feature-spec.ts";
import type { FeatureTransform, Preprocessing } from "../schemas/preprocessing.ts";
import type { CategoricalStats, NumericStats, SiteStats } from "../schemas/site-stats.ts";

/** Chan, Golub & LeVeque (1979): pairwise merge of count, mean and M2, exact up to rounding. */
export function mergeMoments(a: NumericStats, b: NumericStats): NumericStats {
  const count = a.count + b.count;
  if (count === 0) return { kind: "numeric", count: 0, mean: 0, m2: 0, missing: a.missing + b.missing };
  const delta = b.mean - a.mean;
  const mean = a.mean + (delta * b.count) / count;
  const m2 = a.m2 + b.m2 + (delta * delta * a.count * b.count) / count;
  return { kind: "numeric", count, mean, m2, missing: a.missing + b.missing };
}

function mergeCategorical(list: CategoricalStats[]): CategoricalStats {
  // No prototype: a level called "constructor" or "toString" is a level, not an inherited method.
  const counts: Record<string, number> = Object.create(null);
  let missing = 0;
  for (const s of list) {
    missing += s.missing;
    for (const [level, n] of Object.entries(s.counts)) counts[level] = (counts[level] ?? 0) + n;
  }
  return { kind: "categorical", counts, missing };
}

function statsOf<K extends "numeric" | "categorical">(sites: SiteStats[], name: string, kind: K) {
  return sites.map((s, i) => {
    const f = s.features[name];
    if (!f || f.kind !== kind) throw new Error(`site ${i} has no ${kind} statistics for feature "${name}"`);
    return f as Extract<SiteStats["features"][string], { kind: K }>;
  });
}

/**
 * The consortium's one preprocessing, from every site's statistics: z-scores with pooled mean and
 * spread (mean imputation plus a missing flag where anything was missing), one-hot categories
 * with the first level as reference (mode imputation). Equal to what pooled data would give.
 */
export function mergeSiteStats(sites: SiteStats[], spec: FeatureSpec): Preprocessing {
  if (sites.length === 0) throw new Error("no site statistics to merge");
  const features: FeatureTransform[] = [];
  const inputs: string[] = [];
  for (const f of spec.features) {
    if (f.type === "numeric") {
      const m = statsOf(sites, f.name, "numeric").reduce(mergeMoments);
      if (m.count === 0) throw new Error(`feature "${f.name}" has no values at any site`);
      const sd = Math.sqrt(m.m2 / m.count);
      const missingIndicator = m.missing > 0;
      features.push({ kind: "numeric", name: f.name, column: f.column, missing: f.missing, mean: m.mean, sd: sd > 1e-12 ? sd : 1, missingIndicator });
      inputs.push(f.name);
      if (missingIndicator) inputs.push(`${f.name}:missing`);
    } else {
      const c = mergeCategorical(statsOf(sites, f.name, "categorical"));
      const levels = Object.keys(c.counts).sort();
      if (levels.length === 0) throw new Error(`feature "${f.name}" has no values at any site`);
      const impute = levels.reduce((best, l) => ((c.counts[l] ?? 0) > (c.counts[best] ?? 0) ? l : best));
      features.push({ kind: "categorical", name: f.name, column: f.column, missing: f.missing, levels, impute });
      for (const level of levels.slice(1)) inputs.push(`${f.name}=${level}`);
    }
  }
  const rows = sites.reduce((n, s) => n + s.rows, 0);
  const positives = sites.reduce((n, s) => n + s.positives, 0);
  return { features, label: spec.label, missingTokens: spec.missingTokens, inputs, rows, positives };
}
