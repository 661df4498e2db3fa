/**
 * @module
 * Population stability index (Siddiqi 2006, "Credit Risk Scorecards"; its sampling distribution:
 * Yurdakul 2018): Σ (c − r) ln(c / r) over the shares r and c of a reference and a current
 * histogram. The bands in use since Siddiqi: below 0.1 stable, 0.1–0.25 a moderate shift, 0.25
 * and above a major one.
 */
import { MetricsError } from "../metrics/metrics-error.ts";
import { chiSquareQuantile } from "./chi-square.ts";

/**
 * A share of 0 is read as this: ln 0 is undefined, and a bin that empties is a finite change. The
 * usual floor in scorecard practice; each term (c − r) ln(c / r) stays ≥ 0 whatever the floor.
 */
export const PSI_EPSILON = 1e-4;

const total = (xs: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s;
};

/**
 * The index between two histograms over the same bins (counts or shares: each is normalised).
 *
 * @example
 * psi([25, 25, 25, 25], [10, 20, 30, 40]); // ≈ 0.2282
 */
export function psi(reference: ArrayLike<number>, current: ArrayLike<number>, epsilon = PSI_EPSILON): number {
  if (reference.length !== current.length) {
    throw new MetricsError("BINS_MISMATCH", `reference has ${reference.length} bins but current has ${current.length}`);
  }
  const n = total(reference);
  const m = total(current);
  if (!(n > 0) || !(m > 0)) throw new MetricsError("NO_COUNTS", "a histogram without values has no PSI");
  let index = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max(reference[i]! / n, epsilon);
    const c = Math.max(current[i]! / m, epsilon);
    index += (c - r) * Math.log(c / r);
  }
  return index;
}

/**
 * PSI's second-order form, Σ (c − r)² / ((c + r) / 2) over the shares (twice Le Cam's triangular
 * discrimination): equal to the index near equality, and without the logarithm's long tail when
 * noise drives a share toward 0, so chance's reach is the χ² form's. Bins empty in both are skipped.
 *
 * @example
 * psiQuadratic([25, 25, 25, 25], [10, 20, 30, 40]); // ≈ 0.2180
 */
export function psiQuadratic(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  if (reference.length !== current.length) {
    throw new MetricsError("BINS_MISMATCH", `reference has ${reference.length} bins but current has ${current.length}`);
  }
  const n = total(reference);
  const m = total(current);
  if (!(n > 0) || !(m > 0)) throw new MetricsError("NO_COUNTS", "a histogram without values has no PSI");
  let form = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i]! / n;
    const c = current[i]! / m;
    if (r + c > 0) form += (2 * (c - r) ** 2) / (c + r);
  }
  return form;
}

/**
 * Adjacent bins merged into at most `groups` groups of about equal mass under the average of the
 * two histograms' shares: with 512 bins and a few hundred rows, sampling noise alone would give an
 * index near 2. Cut on the average, not the reference alone, so that mass moving into bins the
 * reference leaves empty lands in a group of its own.
 *
 * @example
 * regroup([4, 0, 0, 4], [0, 4, 4, 0], 2); // { reference: [4, 4], current: [4, 4] }
 */
export function regroup(reference: ArrayLike<number>, current: ArrayLike<number>, groups: number): { reference: number[]; current: number[] } {
  if (reference.length !== current.length) {
    throw new MetricsError("BINS_MISMATCH", `reference has ${reference.length} bins but current has ${current.length}`);
  }
  const n = total(reference);
  const m = total(current);
  const out = { reference: [] as number[], current: [] as number[] };
  let mass = 0;
  let next = 1;
  let r = 0;
  let c = 0;
  for (let i = 0; i < reference.length; i++) {
    const share = ((n > 0 ? reference[i]! / n : 0) + (m > 0 ? current[i]! / m : 0)) / (n > 0 && m > 0 ? 2 : 1);
    r += reference[i]!;
    c += current[i]!;
    mass += share;
    if (share > 0 && mass >= next / groups - 1e-9) {
      out.reference.push(r);
      out.current.push(c);
      r = 0;
      c = 0;
      while (next / groups <= mass + 1e-9) next++;
    }
  }
  // Empty bins past the last cut hold nothing; rounding may leave one last sliver.
  if (r > 0 || c > 0) {
    out.reference.push(r);
    out.current.push(c);
  }
  return out;
}

/**
 * The index two normal distributions approach as bins get fine: their Jeffreys divergence (the
 * symmetrised Kullback–Leibler divergence, of which PSI is the binned form),
 * ((μ₁ − μ₂)²(σ₁² + σ₂²) + (σ₁² − σ₂²)²) / (2σ₁²σ₂²). Binning only lowers a divergence, so for
 * normal data this is the ceiling of the binned index; for skewed data it is a guide only.
 *
 * @example
 * normalPsi({ mean: 0, sd: 1 }, { mean: 0.5, sd: 1 }); // 0.25
 */
export function normalPsi(a: { readonly mean: number; readonly sd: number }, b: { readonly mean: number; readonly sd: number }): number {
  const va = a.sd * a.sd;
  const vb = b.sd * b.sd;
  return ((a.mean - b.mean) ** 2 * (va + vb) + (va - vb) ** 2) / (2 * va * vb);
}

/**
 * What sampling alone lets the index reach, at the upper quantile of `z`, between windows of `n`
 * and `m` rows from one distribution: (1/n + 1/m)·χ²_df with df = groups − 1 (Yurdakul 2018), or
 * 2 for `normalPsi` (a mean and a spread).
 *
 * @example
 * psiNoise(9, 300, 300, 3); // ≈ 0.18
 */
export function psiNoise(df: number, n: number, m: number, z: number): number {
  return (1 / n + 1 / m) * chiSquareQuantile(df, z);
}
