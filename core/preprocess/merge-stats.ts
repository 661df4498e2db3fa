import type { FeatureDef, FeatureSpec } from "../schemas/feature-spec.ts";
import type { FeatureAgreement, FeatureTransform, Preprocessing } from "../schemas/preprocessing.ts";
import type { CategoricalStats, FeatureStats, NumericStats, SiteStats } from "../schemas/site-stats.ts";
import { addHistograms, histogramBins, histogramMedian } from "./histogram.ts";

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

/** The share of sites that must provide a feature when the spec does not say. */
export const DEFAULT_QUORUM = 0.5;

/** Whether a site has at least one value of the feature: what it declares it can provide. */
function provides(f: FeatureStats): boolean {
  return f.kind === "numeric" ? f.count > 0 : Object.values(f.counts).some((n) => n > 0);
}

/**
 * The consortium's one preprocessing, from every site's statistics. First the agreement on
 * features: a feature is used when at least the spec's quorum of the sites provide it (hold at
 * least one value); the others impute it. Then z-scores with the pooled mean and spread, and
 * mean or median imputation (median from the summed histograms) plus a missing flag where
 * anything was missing; one-hot categories with the first level as reference and mode
 * imputation. Equal to what the pooled rows would give. With `siteIds` (in the order of `sites`)
 * the agreement names the sites that lack each feature.
 */
export function mergeSiteStats(sites: SiteStats[], spec: FeatureSpec, siteIds?: readonly string[]): Preprocessing {
  if (sites.length === 0) throw new Error("no site statistics to merge");
  const quorum = spec.quorum ?? DEFAULT_QUORUM;
  const features: FeatureTransform[] = [];
  const inputs: string[] = [];
  const agreement: FeatureAgreement[] = [];
  for (const f of spec.features) {
    const stats = statsOf(sites, f.name, f.type);
    const providedBy = stats.filter(provides).length;
    // Quorum of the sites, and never a feature no site has a value of.
    const used = providedBy > 0 && providedBy >= Math.ceil(quorum * sites.length - 1e-9);
    const notProvidedBy = siteIds?.filter((_, i) => !provides(stats[i] as FeatureStats));
    agreement.push({ name: f.name, providedBy, sites: sites.length, used, ...(notProvidedBy && { notProvidedBy }) });
    if (!used) continue;
    if (f.type === "numeric") {
      const numeric = stats as NumericStats[];
      const m = numeric.reduce(mergeMoments);
      const sd = Math.sqrt(m.m2 / m.count);
      const missingIndicator = m.missing > 0;
      const impute = f.impute === "median" ? medianOf(f, numeric, siteIds) : undefined;
      features.push({ kind: "numeric", name: f.name, column: f.column, missing: f.missing, mean: m.mean, sd: sd > 1e-12 ? sd : 1, missingIndicator, ...(impute !== undefined && { impute }) });
      inputs.push(f.name);
      if (missingIndicator) inputs.push(`${f.name}:missing`);
    } else {
      const c = mergeCategorical(stats as CategoricalStats[]);
      const levels = Object.keys(c.counts).sort();
      const impute = levels.reduce((best, l) => ((c.counts[l] ?? 0) > (c.counts[best] ?? 0) ? l : best));
      features.push({ kind: "categorical", name: f.name, column: f.column, missing: f.missing, levels, impute });
      for (const level of levels.slice(1)) inputs.push(`${f.name}=${level}`);
    }
  }
  if (features.length === 0) {
    const named = agreement.map((a) => `${a.name} ${a.providedBy}/${a.sites}`).join(", ");
    throw new Error(`no feature is provided by the quorum of ${quorum * 100}% of the sites (${named})`);
  }
  const rows = sites.reduce((n, s) => n + s.rows, 0);
  const positives = sites.reduce((n, s) => n + s.positives, 0);
  return { features, agreement: { quorum, features: agreement }, label: spec.label, missingTokens: spec.missingTokens, inputs, rows, positives };
}

/** The pooled median of a feature from every site's histogram over its range. */
function medianOf(f: FeatureDef, stats: readonly NumericStats[], siteIds?: readonly string[]): number {
  const bins = histogramBins(f);
  if (!bins) throw new Error(`feature "${f.name}" is imputed with its median but declares no range`);
  const histograms = stats.flatMap((s, i) => {
    if (s.count === 0) return [];
    if (!s.histogram || s.histogram.length !== bins.bins) throw new Error(`${siteIds?.[i] ?? `site ${i}`} sent no ${bins.bins}-bin histogram for feature "${f.name}"`);
    return [s.histogram];
  });
  return histogramMedian(addHistograms(histograms), bins);
}

/**
 * Several sites' statistics as one site's, exactly as their pooled rows would give (counts and
 * histograms added, moments merged, readings refused as out of range pooled with their mean): what
 * a region sends up for its sites. Every site must report the same features.
 */
export function poolSiteStats(sites: readonly SiteStats[]): SiteStats {
  const first = sites[0];
  if (!first) throw new Error("no site statistics to pool");
  const features: Record<string, FeatureStats> = {};
  for (const name of Object.keys(first.features)) {
    const kind = first.features[name]?.kind ?? "numeric";
    const list = statsOf([...sites], name, kind);
    if (kind === "categorical") {
      features[name] = mergeCategorical(list as CategoricalStats[]);
      continue;
    }
    const numeric = list as NumericStats[];
    const merged = numeric.reduce(mergeMoments);
    const zeros = numeric.every((s) => s.zeros !== undefined) ? numeric.reduce((n, s) => n + (s.zeros ?? 0), 0) : undefined;
    const refused = numeric.reduce((n, s) => n + (s.outOfRange?.count ?? 0), 0);
    const refusedMean = refused === 0 ? 0 : numeric.reduce((n, s) => n + (s.outOfRange?.count ?? 0) * (s.outOfRange?.mean ?? 0), 0) / refused;
    const histograms = numeric.map((s) => s.histogram);
    const histogram = histograms.every((h) => h !== undefined) ? addHistograms(histograms as number[][]) : undefined;
    features[name] = {
      ...merged,
      ...(zeros !== undefined && { zeros }),
      ...(refused > 0 && { outOfRange: { count: refused, mean: refusedMean } }),
      ...(histogram && { histogram }),
    };
  }
  return { rows: sites.reduce((n, s) => n + s.rows, 0), positives: sites.reduce((n, s) => n + s.positives, 0), features };
}
