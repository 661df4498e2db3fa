/**
 * @module
 * Federated data-quality checks: every site is compared with the pool of the *other* sites, from
 * the statistics sites already send before training (`SiteStats`: row and label counts, per-feature
 * moments and missing counts, category counts; never records). Leaving the site out of its own
 * reference keeps a large bad site from hiding in the pool. Each flag carries a reason a data
 * steward can act on.
 */
import { z } from "zod";
import { mergeMoments } from "../preprocess/merge-stats.ts";
import type { NumericStats, SiteStats } from "../schemas/site-stats.ts";

export const QualityFlag = z.object({
  siteId: z.string(),
  /**
   * prevalence: label rate; missing: missing rate; range: readings refused as outside the data
   * model's range; zeros: share of exact zeros; unit: the values (kept or refused) are another
   * unit's; shift: the mean is off; constant: one value only.
   */
  check: z.enum(["prevalence", "missing", "range", "zeros", "unit", "shift", "constant"]),
  feature: z.string().optional(),
  reason: z.string(),
  /** The statistic behind the flag: a two-proportion z, a standardised mean difference, or a unit ratio. */
  score: z.number(),
});
export type QualityFlag = z.infer<typeof QualityFlag>;

export interface QualityThresholds {
  /** A rate (prevalence, missing, zeros) is flagged when its two-proportion |z| reaches this… */
  readonly z: number;
  /** … and it differs from the other sites' by at least this much (absolute). */
  readonly rateGap: number;
  /** A numeric mean is flagged when it is this many of the other sites' standard deviations away. */
  readonly shift: number;
  /** A mean ratio within this relative distance of a known conversion factor is read as a unit error. */
  readonly unitTolerance: number;
}

export const DEFAULT_THRESHOLDS: QualityThresholds = { z: 4, rateGap: 0.25, shift: 2, unitTolerance: 0.12 };

/** A column of zeros is flagged as constant only when the other sites' share of zeros gives it less than this chance. */
const CONSTANT_BY_CHANCE = 1e-3;

/** Zeros read as missing values: at least this share at the site… */
const ZEROS_AT_SITE = 0.5;
/** … where the other sites record 0 at most this often. */
const ZEROS_ELSEWHERE = 0.1;

/** Ratios between clinical units that a site may have recorded in instead of the consortium's. */
export const UNIT_FACTORS: readonly { readonly factor: number; readonly units: string }[] = [
  { factor: 38.67, units: "mg/dL and mmol/L of cholesterol" },
  { factor: 18.02, units: "mg/dL and mmol/L of glucose" },
  { factor: 88.4, units: "mg/dL and µmol/L of creatinine" },
  { factor: 10.93, units: "% (DCCT) and mmol/mol of HbA1c" },
  { factor: 2.2046, units: "lb and kg" },
  { factor: 2.54, units: "in and cm" },
  { factor: 100, units: "m and cm" },
  { factor: 1000, units: "a unit and its thousandth (g and mg, L and mL)" },
];

const pct = (x: number) => `${(100 * x).toFixed(x > 0 && x < 0.01 ? 1 : 0)}%`;
const num = (x: number) => Number(x.toPrecision(4)).toString();

/** Two-proportion z statistic of a successes in n against b in m (0 when it is undefined). */
function twoProportionZ(a: number, n: number, b: number, m: number): number {
  if (n === 0 || m === 0) return 0;
  const p = (a + b) / (n + m);
  const se = Math.sqrt(p * (1 - p) * (1 / n + 1 / m));
  return se > 0 ? (a / n - b / m) / se : 0;
}

/**
 * A rate that differs from the other sites' by a two-proportion |z| ≥ `t.z` and at least
 * `t.rateGap`; `higherOnly` for rates where only more is a problem (missing values).
 */
function rateFlag(
  t: QualityThresholds,
  flag: Omit<QualityFlag, "reason" | "score">,
  site: { hits: number; of: number },
  others: { hits: number; of: number },
  describe: (mine: string, theirs: string) => string,
  higherOnly = false,
): QualityFlag | null {
  if (site.of === 0 || others.of === 0) return null;
  const mine = site.hits / site.of;
  const theirs = others.hits / others.of;
  const z = twoProportionZ(site.hits, site.of, others.hits, others.of);
  if (Math.abs(z) < t.z || Math.abs(mine - theirs) < t.rateGap || (higherOnly && mine < theirs)) return null;
  return { ...flag, reason: `${describe(pct(mine), pct(theirs))} (z = ${z.toFixed(1)})`, score: z };
}

/** A known unit factor the ratio of means is close to, as factor or inverse. */
function unitOf(ratio: number, tolerance: number): { factor: number; units: string; larger: boolean } | null {
  for (const u of UNIT_FACTORS) {
    if (Math.abs(ratio / u.factor - 1) <= tolerance) return { ...u, larger: false };
    if (Math.abs((ratio * u.factor) - 1) <= tolerance) return { ...u, larger: true };
  }
  return null;
}

/** Most of a site's readings refused as out of range where the others' rarely are: a unit error when their mean is a known factor away. */
function rangeFlag(t: QualityThresholds, siteId: string, feature: string, mine: NumericStats, theirs: NumericStats): QualityFlag | null {
  const refused = mine.outOfRange;
  if (!refused || refused.count === 0) return null;
  const share = refused.count / (refused.count + mine.count);
  const elsewhere = (theirs.outOfRange?.count ?? 0) / ((theirs.outOfRange?.count ?? 0) + theirs.count);
  if (share < 0.5 || elsewhere > 0.1 || share - elsewhere < t.rateGap) return null;
  const head = `${feature}: ${pct(share)} of readings outside the data model's range vs ${pct(elsewhere)} at the other sites`;
  const ratio = refused.mean !== 0 ? theirs.mean / refused.mean : Number.NaN;
  const unit = Number.isFinite(ratio) && ratio > 0 ? unitOf(ratio, t.unitTolerance) : null;
  if (unit) {
    const how = unit.larger ? `${num(1 / ratio)}× larger` : `${num(ratio)}× smaller`;
    return { siteId, feature, check: "unit", reason: `${head}; they average ${num(refused.mean)} vs ${num(theirs.mean)}, ${how}: close to the factor ${unit.factor} between ${unit.units}. Recorded in another unit?`, score: ratio };
  }
  return { siteId, feature, check: "range", reason: `${head}; they average ${num(refused.mean)} vs ${num(theirs.mean)}`, score: share };
}

function numericFlags(t: QualityThresholds, siteId: string, feature: string, mine: NumericStats, theirs: NumericStats, noisy: boolean): QualityFlag[] {
  // Readings refused as out of range leave the site's values missing: the range flag says why, the missing one would not.
  const range = rangeFlag(t, siteId, feature, mine, theirs);
  if (range) return [range];
  const flags: QualityFlag[] = [];
  const f = { siteId, feature };
  const seen = (s: NumericStats) => ({ hits: s.missing, of: s.missing + s.count });
  const missing = rateFlag(t, { ...f, check: "missing" }, seen(mine), seen(theirs), (a, b) => `${feature} is missing in ${a} of rows vs ${b} at the other sites`, true);
  if (missing) flags.push(missing);
  // A 0/1 feature (its variance is p(1 − p)) is 0 by design; elsewhere 0 must be rare for a site's zeros to look like gaps.
  const binary = theirs.count > 0 && Math.abs(theirs.m2 / theirs.count - theirs.mean * (1 - theirs.mean)) < 1e-9;
  const zerosLookMissing = mine.zeros !== undefined && theirs.zeros !== undefined && !binary && mine.count > 0 && theirs.count > 0
    && mine.zeros / mine.count >= ZEROS_AT_SITE && theirs.zeros / theirs.count <= ZEROS_ELSEWHERE;
  if (zerosLookMissing && mine.zeros !== undefined && theirs.zeros !== undefined) {
    const zeros = rateFlag(t, { ...f, check: "zeros" }, { hits: mine.zeros, of: mine.count }, { hits: theirs.zeros, of: theirs.count }, (a, b) => `${feature} is 0 in ${a} of rows vs ${b} at the other sites: missing values recorded as 0?`);
    if (zeros) return [...flags, zeros];
  }
  if (mine.count < 2 || theirs.count < 2) return flags;
  const sd = Math.sqrt(theirs.m2 / theirs.count);
  // Noisy statistics: a spread clamped at 0 says nothing about the values.
  // A column of zeros where the other sites are mostly zero too (an image's edge pixel) is what
  // chance gives: flagged only when their share of zeros makes every one of this site's rows being
  // 0 unlikely (below CONSTANT_BY_CHANCE).
  const chance = mine.mean === 0 && theirs.zeros !== undefined && theirs.count > 0 ? (theirs.zeros / theirs.count) ** mine.count : 0;
  if (!noisy && mine.m2 === 0 && theirs.m2 > 0 && chance < CONSTANT_BY_CHANCE) {
    return [...flags, { ...f, check: "constant", reason: `${feature} takes one value (${num(mine.mean)}) in all ${mine.count} rows; it varies at the other sites (sd ${num(sd)})`, score: 0 }];
  }
  if (!(sd > 0)) return flags;
  const d = (mine.mean - theirs.mean) / sd;
  if (Math.abs(d) < t.shift) return flags;
  const ratio = mine.mean !== 0 ? theirs.mean / mine.mean : Number.NaN;
  // A unit is read into the ratio only for a quantity the other sites mostly record as non-zero (a
  // lab value, a weight); one they mostly record as 0 (a pixel at an image's edge) has a mean made of a
  // few readings, whose ratio is noise.
  const measured = theirs.zeros === undefined || theirs.count === 0 || theirs.zeros / theirs.count < 0.5;
  const unit = measured && Number.isFinite(ratio) && ratio > 0 ? unitOf(ratio, t.unitTolerance) : null;
  const means = `${feature} mean ${num(mine.mean)} vs ${num(theirs.mean)} at the other sites`;
  if (unit) {
    const how = unit.larger ? `${num(1 / ratio)}× larger` : `${num(ratio)}× smaller`;
    return [...flags, { ...f, check: "unit", reason: `${means}, ${how}: close to the factor ${unit.factor} between ${unit.units}. Recorded in another unit?`, score: ratio }];
  }
  return [...flags, { ...f, check: "shift", reason: `${means} (${d.toFixed(1)} of their standard deviations)`, score: d }];
}

/**
 * Flags for every site against the pool of the others, in site order: label prevalence, then per
 * feature its missing rate, share of zeros (when sites count them), a constant column, and a mean
 * that is off — read as a unit error when the ratio of means is a known conversion factor.
 * `noisy`: the sites added noise to their statistics (`core/preprocess/noisy-stats.ts`); the
 * constant-column check, which needs an exact spread, is then left out.
 *
 * @example
 * assessSites([{ siteId: "a", stats: a }, { siteId: "b", stats: b }, …]);
 * // [{ siteId: "b", check: "prevalence", reason: "label prevalence 80% vs 12% at the other sites (z = 21.3)", … }]
 */
export function assessSites(sites: readonly { readonly siteId: string; readonly stats: SiteStats }[], thresholds: QualityThresholds = DEFAULT_THRESHOLDS, options: { readonly noisy?: boolean } = {}): QualityFlag[] {
  if (sites.length < 3) return [];
  const flags: QualityFlag[] = [];
  for (const { siteId, stats } of sites) {
    const others = sites.filter((s) => s.siteId !== siteId).map((s) => s.stats);
    const positives = others.reduce((n, s) => n + s.positives, 0);
    const rows = others.reduce((n, s) => n + s.rows, 0);
    const prevalence = rateFlag(thresholds, { siteId, check: "prevalence" }, { hits: stats.positives, of: stats.rows }, { hits: positives, of: rows }, (a, b) => `label prevalence ${a} vs ${b} at the other sites`);
    if (prevalence) flags.push(prevalence);
    for (const [feature, mine] of Object.entries(stats.features)) {
      const theirs = others.map((s) => s.features[feature]).filter((x) => x !== undefined);
      if (mine.kind === "numeric") {
        const numeric = theirs.filter((x): x is NumericStats => x.kind === "numeric");
        if (numeric.length === 0) continue;
        const pooled = numeric.reduce((a, b) => {
          const merged = mergeMoments(a, b);
          const refused = (a.outOfRange?.count ?? 0) + (b.outOfRange?.count ?? 0);
          const refusedMean = refused === 0 ? 0 : ((a.outOfRange?.count ?? 0) * (a.outOfRange?.mean ?? 0) + (b.outOfRange?.count ?? 0) * (b.outOfRange?.mean ?? 0)) / refused;
          return {
            ...merged,
            ...(a.zeros !== undefined && b.zeros !== undefined && { zeros: a.zeros + b.zeros }),
            ...(refused > 0 && { outOfRange: { count: refused, mean: refusedMean } }),
          };
        });
        flags.push(...numericFlags(thresholds, siteId, feature, mine, pooled, options.noisy ?? false));
      } else {
        const missing = theirs.reduce((n, s) => n + s.missing, 0);
        const total = theirs.reduce((n, s) => n + s.missing + (s.kind === "categorical" ? Object.values(s.counts).reduce((a, b) => a + b, 0) : s.count), 0);
        const seen = mine.missing + Object.values(mine.counts).reduce((a, b) => a + b, 0);
        const flag = rateFlag(thresholds, { siteId, feature, check: "missing" }, { hits: mine.missing, of: seen }, { hits: missing, of: total }, (a, b) => `${feature} is missing in ${a} of rows vs ${b} at the other sites`, true);
        if (flag) flags.push(flag);
      }
    }
  }
  return flags;
}
