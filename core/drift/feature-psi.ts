/**
 * @module
 * One feature's PSI between two windows' statistics, and what sampling (and the noise of noisy
 * statistics) alone lets it reach: over histogram bins or levels Yurdakul's (1/n + 1/m)·χ²(groups − 1),
 * widened by the noise; from moments, the index at the edge of what chance moves them by.
 */
import type { FeatureDef } from "../schemas/feature-spec.ts";
import type { CategoricalStats, NumericStats } from "../schemas/site-stats.ts";
import { satterthwaiteQuantile } from "./chi-square.ts";
import { num, pct } from "./format.ts";
import { meanNoise, varianceNoise, type WindowNoise } from "./noise.ts";
import type { DriftPolicy } from "./policy.ts";
import { normalPsi, psi, psiNoise, psiQuadratic, regroup } from "./psi.ts";

export interface FeaturePsi {
  readonly value: number;
  /** The statistic held against chance: the index's χ² form over bins and levels, the index itself from moments… */
  readonly chance: number;
  /** …and what it reaches by chance at the upper quantile of `policy.z`. */
  readonly noise: number;
  /** How it was taken, for the reason: "over 10 groups of its 512 histogram bins". */
  readonly basis: string;
  /** The numbers behind it, for the reason: "mean 67.1 now vs 55.1". */
  readonly detail: string;
}

const total = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** From the histograms when both windows have the same bins; else, by `policy.psiWithoutHistogram`, from the moments as normal or not at all. */
export function numericPsi(policy: DriftPolicy, f: FeatureDef, ref: NumericStats, cur: NumericStats, noise: WindowNoise): FeaturePsi | null {
  const detail = `mean ${num(cur.mean)} now vs ${num(ref.mean)}`;
  if (ref.histogram && cur.histogram && ref.histogram.length === cur.histogram.length) {
    const g = regroup(ref.histogram, cur.histogram, policy.psiGroups);
    const n = total(g.reference);
    const m = total(g.current);
    if (n === 0 || m === 0) return null;
    const floor = psiNoise(Math.max(1, g.reference.length - 1), n, m, policy.z);
    return { value: psi(g.reference, g.current), chance: psiQuadratic(g.reference, g.current), noise: floor, basis: `over ${g.reference.length} groups of its ${ref.histogram.length} histogram bins`, detail };
  }
  if (policy.psiWithoutHistogram === "skip" || ref.count < 2 || cur.count < 2) return null;
  const a = { mean: ref.mean, sd: Math.sqrt(ref.m2 / ref.count) };
  const b = { mean: cur.mean, sd: Math.sqrt(cur.m2 / cur.count) };
  if (!(a.sd > 0 && b.sd > 0)) return null;
  // What chance alone could show: the mean off by z standard errors and the variance by z relative
  // ones at once (PSI grows with each, so it passes this only if one of them passes z). The noise of
  // noisy statistics can make any spread plausible: then the moments say nothing.
  const variance = (a.sd ** 2 + b.sd ** 2) / 2;
  const sampling = 1 / ref.count + 1 / cur.count;
  const meanOff = (policy.z * Math.sqrt(variance * sampling + meanNoise(noise.reference, ref, f) + meanNoise(noise.current, cur, f))) / Math.sqrt(variance);
  const spreadOff = policy.z * Math.sqrt(2 * sampling + (varianceNoise(noise.reference, ref, f) + varianceNoise(noise.current, cur, f)) / variance ** 2);
  const unit = { mean: 0, sd: 1 };
  const floor = spreadOff >= 1 ? Number.POSITIVE_INFINITY : Math.max(normalPsi(unit, { mean: meanOff, sd: Math.sqrt(1 + spreadOff) }), normalPsi(unit, { mean: meanOff, sd: Math.sqrt(1 - spreadOff) }));
  const value = normalPsi(a, b);
  return { value, chance: value, noise: floor, basis: "from means and SDs, read as normal: no histogram", detail: `${detail}, SD ${num(b.sd)} vs ${num(a.sd)}` };
}

/**
 * Near equality PSI is Δᵀ diag(1/p) Δ over the levels' share differences Δ, normal with covariance
 * (1/n + 1/m)(diag(p) − ppᵀ) from sampling plus, per window of N rows with noise σ on every count,
 * σ²/N²·(I − p1ᵀ − 1pᵀ + L·ppᵀ). Its floor matches that form's mean and variance (traces of M and
 * M², M = diag(1/p)·covariance): the noise lies in L − 1 directions, not L independent ones.
 */
function levelsFloor(r: readonly number[], c: readonly number[], noise: WindowNoise, z: number): number {
  const L = r.length;
  const n = total(r);
  const m = total(c);
  const pr = r.map((x) => x / n);
  const pc = c.map((x) => x / m);
  const p = pr.map((x, i) => Math.max((x + pc[i]!) / 2, 1 / (n + m)));
  const noiseCov = (sigma: number, q: readonly number[], rows: number, i: number, j: number) =>
    ((sigma * sigma) / (rows * rows)) * ((i === j ? 1 : 0) - q[i]! - q[j]! + L * q[i]! * q[j]!);
  const M = p.map((pi, i) =>
    p.map((pj, j) => ((1 / n + 1 / m) * ((i === j ? pi : 0) - pi * pj) + noiseCov(noise.reference, pr, n, i, j) + noiseCov(noise.current, pc, m, i, j)) / pi),
  );
  const trace = M.reduce((t, row, i) => t + row[i]!, 0);
  const squared = M.reduce((t, row, i) => t + row.reduce((u, x, j) => u + x * M[j]![i]!, 0), 0);
  return satterthwaiteQuantile(trace, 2 * squared, z);
}

/** Over the levels either window has, the floor widened by the noise of noisy counts. */
export function categoricalPsi(policy: DriftPolicy, ref: CategoricalStats, cur: CategoricalStats, noise: WindowNoise): FeaturePsi | null {
  // A level neither window has a row of says nothing (and would add a degree of freedom to chance).
  const levels = [...new Set([...Object.keys(ref.counts), ...Object.keys(cur.counts)])].filter((l) => (ref.counts[l] ?? 0) + (cur.counts[l] ?? 0) > 0).sort();
  const r = levels.map((l) => ref.counts[l] ?? 0);
  const c = levels.map((l) => cur.counts[l] ?? 0);
  const n = total(r);
  const m = total(c);
  if (levels.length < 2 || n === 0 || m === 0) return null;
  const floor = levelsFloor(r, c, noise, policy.z);
  const moved = levels.map((l, i) => ({ l, after: c[i]! / m, before: r[i]! / n })).reduce((w, x) => (Math.abs(x.after - x.before) > Math.abs(w.after - w.before) ? x : w));
  return { value: psi(r, c), chance: psiQuadratic(r, c), noise: floor, basis: `over its ${levels.length} levels`, detail: `"${moved.l}" ${pct(moved.after)} of rows now vs ${pct(moved.before)}` };
}
