/**
 * @module
 * Drift from statistics only: a site's current window of `SiteStats` (what it sends at check-in,
 * noised where the consortium noises them) against the champion's training snapshot of the same
 * site (or the pooled one). Each flag names the site, the feature and the numbers, and is beyond
 * what sampling and the statistics' noise alone explain.
 */
import type { EvalCounts } from "../metrics/eval-counts.ts";
import { statsNoiseSigma } from "../preprocess/noisy-stats.ts";
import type { FeatureDef, FeatureSpec } from "../schemas/feature-spec.ts";
import type { StatsNoise } from "../schemas/privacy.ts";
import type { CategoricalStats, FeatureStats, NumericStats, SiteStats } from "../schemas/site-stats.ts";
import type { DriftFlag } from "./drift-flag.ts";
import { categoricalPsi, numericPsi } from "./feature-psi.ts";
import { num, pct } from "./format.ts";
import { EXACT, meanNoise, ratioNoise, shareNoise, varianceNoise, type WindowNoise } from "./noise.ts";
import { performanceFlags } from "./performance.ts";
import type { DriftPolicy } from "./policy.ts";
import { unitFactor, type UnitMatch } from "./unit-factor.ts";

export interface DriftOptions {
  /** The champion's evaluation counts on the reference window's rows and on the site's newly labelled rows. */
  readonly evaluation?: { readonly reference: EvalCounts; readonly current: EvalCounts };
  /** The consortium's noise on statistics, when sites noise them: every noise floor widens by it. */
  readonly noise?: StatsNoise;
  /** Sites whose noisy statistics were pooled into `reference` (each brings its own noise); 1 by default. */
  readonly referenceSites?: number;
}

const THEN = "in the champion's training data";

/** A clipped mean this close to an end of the declared range (share of its width), or within noise of it, is piled there. */
const EDGE = 0.02;

interface Rate {
  readonly hits: number;
  readonly of: number;
  /** Variance the statistics' noise adds to hits / of. */
  readonly noise: number;
}

/** A rate that moved by `gap` or more and by |z| ≥ `policy.z` (two-proportion, widened by noise), either way. */
function rateMove(policy: DriftPolicy, gap: number, then: Rate, now: Rate) {
  if (then.of <= 0 || now.of <= 0) return null;
  const before = then.hits / then.of;
  const after = now.hits / now.of;
  const p = (then.hits + now.hits) / (then.of + now.of);
  const se = Math.sqrt(p * (1 - p) * (1 / then.of + 1 / now.of) + then.noise + now.noise);
  const z = se > 0 ? (after - before) / se : 0;
  return Math.abs(z) >= policy.z && Math.abs(after - before) >= gap ? { before, after, z } : null;
}

const levelsTotal = (s: CategoricalStats) => Object.values(s.counts).reduce((a, b) => a + b, 0);
function missingRate(s: FeatureStats, sigma: number): Rate {
  const of = s.missing + (s.kind === "numeric" ? s.count : levelsTotal(s));
  // A categorical's present rows are a sum of its levels' noisy counts.
  const parts = s.kind === "numeric" ? 1 : Math.max(1, Object.keys(s.counts).length);
  return { hits: s.missing, of, noise: of > 0 ? shareNoise(sigma * Math.sqrt(parts), s.missing / of, of) : 0 };
}

function missingFlag(policy: DriftPolicy, noise: WindowNoise, siteId: string, feature: string, ref: FeatureStats, cur: FeatureStats): DriftFlag | null {
  const move = rateMove(policy, policy.missingGap, missingRate(ref, noise.reference), missingRate(cur, noise.current));
  if (!move) return null;
  const reason = `${siteId}: ${feature} is missing in ${pct(move.after)} of rows now vs ${pct(move.before)} ${THEN} (z = ${move.z.toFixed(1)})`;
  return { siteId, check: "missing", feature, score: move.z, severity: "act", reason };
}

const times = (ratio: number, u: UnitMatch) => (u.larger ? `${num(1 / ratio)}× larger` : `${num(ratio)}× smaller`);
const unitText = (u: UnitMatch) => `close to the factor ${u.factor} between ${u.units}. Recorded in another unit?`;

/** Most readings now refused by the data model as out of range, where they were not before: a unit error when their mean is a known factor away. */
function refusedFlag(policy: DriftPolicy, siteId: string, feature: string, ref: NumericStats, cur: NumericStats): DriftFlag | null {
  const refused = cur.outOfRange;
  if (!refused || refused.count === 0) return null;
  const share = refused.count / (refused.count + cur.count);
  const before = (ref.outOfRange?.count ?? 0) / ((ref.outOfRange?.count ?? 0) + ref.count);
  if (share < 0.5 || before > 0.1 || share - before < policy.missingGap) return null;
  const ratio = ref.mean / refused.mean;
  const unit = unitFactor(ratio, policy.unitTolerance);
  const head = `${siteId}: ${pct(share)} of ${feature} readings are outside the data model's range now vs ${pct(before)} ${THEN}; they average ${num(refused.mean)} vs ${num(ref.mean)}`;
  if (unit) return { siteId, check: "unit", feature, score: ratio, severity: "act", reason: `${head}, ${times(ratio, unit)}: ${unitText(unit)}` };
  return { siteId, check: "missing", feature, score: share, severity: "act", reason: head };
}

/** Noisy statistics clip values into the range first: a mean piled at one end (within noise of it) hides the real ratio. */
function pileEnd(f: FeatureDef, ref: NumericStats, cur: NumericStats, band: number): "lower" | "upper" | null {
  const r = f.range;
  if (!r) return null;
  const near = Math.max(EDGE * (r.max - r.min), band);
  const end = cur.mean >= r.min && cur.mean - r.min <= near ? "lower" : cur.mean <= r.max && r.max - cur.mean <= near ? "upper" : null;
  return end && Math.abs(ref.mean - (end === "lower" ? r.min : r.max)) > 2 * near ? end : null;
}

/**
 * The two windows' variances pooled within windows (Cohen's d; merged moments would add the shift
 * itself to the spread), each weighted by its precision: by its rows when exact, so (M2 + M2') /
 * (n + n'); with noisy statistics the noisier variance counts less.
 */
function pooledVariance(noise: WindowNoise, f: FeatureDef, ref: NumericStats, cur: NumericStats): number {
  const pilot = (ref.m2 + cur.m2) / (ref.count + cur.count);
  if (!(pilot > 0)) return 0;
  const weight = (s: NumericStats, sigma: number) => 1 / ((2 * pilot * pilot) / s.count + varianceNoise(sigma, s, f));
  const a = weight(ref, noise.reference);
  const b = weight(cur, noise.current);
  return (a * (ref.m2 / ref.count) + b * (cur.m2 / cur.count)) / (a + b);
}

/** A mean that moved by `policy.shift` pooled SDs and `policy.z` standard errors, read as a unit error where it can be. */
function moveFlag(policy: DriftPolicy, noise: WindowNoise, siteId: string, f: FeatureDef, ref: NumericStats, cur: NumericStats): DriftFlag | null {
  if (ref.count < 2 || cur.count < 2) return null;
  const sd = Math.sqrt(pooledVariance(noise, f, ref, cur));
  // One value in both windows has no spread to measure a shift in: PSI sees it where there are histograms.
  if (!(sd > 0)) return null;
  const d = (cur.mean - ref.mean) / sd;
  const curNoise = meanNoise(noise.current, cur, f);
  const se = Math.sqrt(1 / ref.count + 1 / cur.count + (meanNoise(noise.reference, ref, f) + curNoise) / (sd * sd));
  if (!(Math.abs(d) >= policy.shift && Math.abs(d) / se >= policy.z)) return null;
  const means = `${siteId}: ${f.name} mean ${num(cur.mean)} now vs ${num(ref.mean)} ${THEN}`;
  const ratio = ref.mean / cur.mean;
  const end = pileEnd(f, ref, cur, policy.z * Math.sqrt(curNoise));
  if (end && f.range) {
    const reason = `${means}, piled at the ${end} end of the declared range [${num(f.range.min)}, ${num(f.range.max)}]: values ${end === "lower" ? "below" : "above"} it. Recorded in another unit?`;
    return { siteId, check: "unit", feature: f.name, score: ratio, severity: "act", reason };
  }
  const unit = unitFactor(ratio, policy.unitTolerance);
  if (unit) return { siteId, check: "unit", feature: f.name, score: ratio, severity: "act", reason: `${means}, ${times(ratio, unit)}: ${unitText(unit)}` };
  return { siteId, check: "shift", feature: f.name, score: d, severity: "act", reason: `${means} (${d >= 0 ? "+" : ""}${d.toFixed(2)} pooled standard deviations)` };
}

/** PSI at `psiWatch` (watch) or `psi` (act), and beyond what sampling and noise alone reach at `policy.z`. */
function psiFlag(policy: DriftPolicy, noise: WindowNoise, siteId: string, f: FeatureDef, ref: FeatureStats, cur: FeatureStats): DriftFlag | null {
  const p =
    ref.kind === "numeric" && cur.kind === "numeric" ? numericPsi(policy, f, ref, cur, noise) : ref.kind === "categorical" && cur.kind === "categorical" ? categoricalPsi(policy, ref, cur, noise) : null;
  if (!p || p.value < policy.psiWatch || p.chance <= p.noise) return null;
  const act = p.value >= policy.psi;
  const band = act ? `a major shift (≥ ${policy.psi})` : `a moderate shift (${policy.psiWatch}–${policy.psi})`;
  const reason = `${siteId}: ${f.name} PSI ${p.value.toFixed(2)} between the champion's training data and now, ${p.basis}: ${band}; ${p.chance === p.value ? "" : `its χ² form ${p.chance.toFixed(2)} where `}chance alone reaches ${p.noise.toFixed(2)}; ${p.detail}`;
  return { siteId, check: "psi", feature: f.name, score: p.value, severity: act ? "act" : "watch", reason };
}

function featureFlags(policy: DriftPolicy, noise: WindowNoise, siteId: string, f: FeatureDef, ref: FeatureStats, cur: FeatureStats): DriftFlag[] {
  const missing = missingFlag(policy, noise, siteId, f.name, ref, cur);
  if (ref.kind === "numeric" && cur.kind === "numeric") {
    // Refused readings are missing values too: the flag that says why replaces the others.
    const refused = refusedFlag(policy, siteId, f.name, ref, cur);
    if (refused) return [refused];
    const move = moveFlag(policy, noise, siteId, f, ref, cur);
    // A unit error moves the distribution as well: the unit flag is the one to act on, not a retrain.
    if (move?.check === "unit") return [missing, move].filter((x) => x !== null);
    return [missing, move, psiFlag(policy, noise, siteId, f, ref, cur)].filter((x) => x !== null);
  }
  return [missing, psiFlag(policy, noise, siteId, f, ref, cur)].filter((x) => x !== null);
}

/**
 * Drift flags for one site, in order: label prevalence; per feature of the spec its missing rate,
 * a unit error or a mean shift, and PSI; then, with `options.evaluation`, the champion's AUROC
 * and calibration. A feature the reference lacks is skipped; one the current window lacks is
 * flagged `missing`. Windows without rows say nothing about the data.
 *
 * @example
 * detectDrift(championSnapshot, thisMonth, spec, driftPolicy(), "site-3");
 * // [{ siteId: "site-3", check: "unit", feature: "chol", score: 38.6, severity: "act",
 * //    reason: "site-3: chol mean 5.85 now vs 226 in the champion's training data, 38.6× smaller: close to the factor 38.67 …" }]
 */
export function detectDrift(reference: SiteStats, current: SiteStats, spec: FeatureSpec, policy: DriftPolicy, siteId: string, options: DriftOptions = {}): DriftFlag[] {
  const sigma = options.noise ? statsNoiseSigma(spec, options.noise) : 0;
  const noise: WindowNoise = sigma === 0 ? EXACT : { reference: sigma * Math.sqrt(options.referenceSites ?? 1), current: sigma };
  const flags: DriftFlag[] = [];
  if (reference.rows > 0 && current.rows > 0) {
    const rate = (s: SiteStats, sd: number): Rate => ({ hits: s.positives, of: s.rows, noise: ratioNoise(sd, s.positives / s.rows, s.rows) });
    const move = rateMove(policy, policy.prevalenceGap, rate(reference, noise.reference), rate(current, noise.current));
    if (move) {
      const reason = `${siteId}: label prevalence ${pct(move.after)} now vs ${pct(move.before)} ${THEN} (z = ${move.z.toFixed(1)}, ${current.rows} rows)`;
      flags.push({ siteId, check: "prevalence", score: move.z, severity: "act", reason });
    }
    for (const f of spec.features) {
      const ref = reference.features[f.name];
      const cur = current.features[f.name];
      if (!ref) continue;
      if (!cur || cur.kind !== ref.kind) {
        flags.push({ siteId, check: "missing", feature: f.name, score: 1, severity: "act", reason: `${siteId}: sent no ${ref.kind} statistics for ${f.name}; the champion's training data has them` });
        continue;
      }
      flags.push(...featureFlags(policy, noise, siteId, f, ref, cur));
    }
  }
  if (options.evaluation) flags.push(...performanceFlags(options.evaluation.reference, options.evaluation.current, policy, siteId));
  return flags;
}
