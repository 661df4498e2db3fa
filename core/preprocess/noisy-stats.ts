/**
 * @module
 * Differentially private site statistics (the Gaussian mechanism): a site adds noise to every
 * count and sum it reports, so that the consortium's preprocessing and data-quality checks learn
 * nothing that hinges on one patient. Every number is scaled to sensitivity 1 (counts change by 1
 * when a patient is added or removed; sums of values clipped into the feature's declared range by
 * the range's half-width, sums of squares by its square), so the whole release has L2 sensitivity
 * √touches, where touches is the most coordinates one patient can change. One release, calibrated
 * with the RDP accountant at q = 1, one step.
 */
import { ConfigError } from "../errors.ts";
import { calibrateNoise } from "../privacy/index.ts";
import type { FeatureSpec } from "../schemas/feature-spec.ts";
import type { StatsNoise } from "../schemas/privacy.ts";
import type { FeatureStats, SiteStats } from "../schemas/site-stats.ts";

/**
 * What noisy statistics need of the spec: a range for every numeric feature (to clip values and
 * bound sums) and the levels of every categorical one (a level's name must not depend on the data).
 * Null when the spec has them, else what is missing.
 */
export function noiseProblem(spec: FeatureSpec): string | null {
  const numeric = spec.features.filter((f) => f.type === "numeric" && f.range === undefined).map((f) => f.name);
  const categorical = spec.features.filter((f) => f.type === "categorical" && f.levels === undefined).map((f) => f.name);
  const median = spec.features.filter((f) => f.impute === "median").map((f) => f.name);
  const parts = [
    ...(numeric.length > 0 ? [`a range for numeric ${numeric.join(", ")}`] : []),
    ...(categorical.length > 0 ? [`levels for categorical ${categorical.join(", ")}`] : []),
  ];
  if (parts.length > 0) return `noisy statistics need ${parts.join(" and ")}`;
  // Noise on every bin of a histogram buries its median unless sites are very large.
  if (median.length > 0) return `noisy statistics cannot give a median: impute ${median.join(", ")} with the mean`;
  return null;
}

/**
 * The most coordinates of a site's statistics one patient changes (adding or removing the
 * patient): rows and positives; per numeric feature count, zeros, the sum and the sum of squares
 * (missing instead of count is fewer); per categorical feature one level's count or missing.
 * Noisy statistics carry no histograms.
 */
export function recordTouches(spec: FeatureSpec): number {
  return 2 + spec.features.reduce((n, f) => n + (f.type === "numeric" ? 4 : 1), 0);
}

/** The noise's standard deviation for one coordinate of sensitivity 1. */
export function statsNoiseSigma(spec: FeatureSpec, noise: StatsNoise): number {
  return calibrateNoise({ q: 1, steps: 1, epsilon: noise.epsilon, delta: noise.delta }) * Math.sqrt(recordTouches(spec));
}

const count = (x: number) => Math.max(0, Math.round(x));

/**
 * The site's statistics with Gaussian noise on every count and sum. `stats` must come from
 * `computeSiteStats(table, spec, { bounded: true })` (values clipped into their ranges, only the
 * declared levels). Counts are rounded and kept non-negative; means and spreads are rebuilt from
 * the noisy sums and kept inside what the range allows. Readings a data model refused as out of
 * range are not reported (a patient may have any number of them), nor histograms. A feature whose
 * column the site does not have (`absent`: a fact of its schema, not of any patient) is reported
 * as exactly no values, so that the consortium's agreement on features is not left to noise.
 *
 * @example
 * const sent = noisySiteStats(computeSiteStats(train, spec, { bounded: true }), spec, { epsilon: 1, delta: 1e-6 }, secureNormal);
 */
export function noisySiteStats(stats: SiteStats, spec: FeatureSpec, noise: StatsNoise, normal: () => number, absent: readonly string[] = []): SiteStats {
  const problem = noiseProblem(spec);
  if (problem) throw new ConfigError(problem);
  const sigma = statsNoiseSigma(spec, noise);
  const noisy = (x: number, sensitivity = 1) => x + sigma * sensitivity * normal();
  const rows = count(noisy(stats.rows));
  const features: Record<string, FeatureStats> = {};
  for (const f of spec.features) {
    const s = stats.features[f.name];
    if (!s || s.kind !== f.type) throw new Error(`no ${f.type} statistics for feature "${f.name}"`);
    if (absent.includes(f.name)) {
      features[f.name] = f.type === "numeric" ? { kind: "numeric", count: 0, mean: 0, m2: 0, missing: rows, zeros: 0 } : { kind: "categorical", counts: {}, missing: rows };
    } else if (s.kind === "numeric" && f.range) {
      const centre = (f.range.min + f.range.max) / 2;
      const half = (f.range.max - f.range.min) / 2;
      // Centred sums, which the clipped values bound by half and half².
      const s1 = noisy(s.count * (s.mean - centre), half);
      const s2 = noisy(s.m2 + s.count * (s.mean - centre) ** 2, half * half);
      const n = count(noisy(s.count));
      const mean = n === 0 ? centre : Math.min(f.range.max, Math.max(f.range.min, centre + s1 / n));
      const m2 = n === 0 ? 0 : Math.min(n * half * half, Math.max(0, s2 - (s1 * s1) / n));
      features[f.name] = {
        kind: "numeric",
        count: n,
        mean,
        m2,
        missing: count(noisy(s.missing)),
        ...(s.zeros !== undefined && { zeros: Math.min(n, count(noisy(s.zeros))) }),
      };
    } else if (s.kind === "categorical") {
      const counts: Record<string, number> = Object.create(null);
      for (const [level, n] of Object.entries(s.counts)) counts[level] = count(noisy(n));
      features[f.name] = { kind: "categorical", counts, missing: count(noisy(s.missing)) };
    }
  }
  return { rows, positives: Math.min(rows, count(noisy(stats.positives))), features };
}
