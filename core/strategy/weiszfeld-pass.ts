/** Coordinates per block: the block of every delta is still in L2 when its distances are taken. */
const BLOCK = 1024;

/** Float64s of scratch `weiszfeldPass` needs. */
export const WEISZFELD_SCRATCH = BLOCK;

/**
 * One pass over the deltas: `z` ← Σ coeffs[s]·deltas[s] / Σ coeffs, and `dist2[s]` ← ‖deltas[s] − z‖².
 * Each block of `z` is finished before the distances read it, so the pass reads memory once; sites
 * are added four at a time so that the running sums are loaded and stored a quarter as often.
 */
export function weiszfeldPass(deltas: readonly Float32Array[], coeffs: Float64Array, z: Float32Array, dist2: Float64Array, scratch: Float64Array): void {
  const n = deltas.length;
  const dim = z.length;
  let denom = 0;
  for (let s = 0; s < n; s++) denom += coeffs[s]!;
  dist2.fill(0);
  for (let start = 0; start < dim; start += BLOCK) {
    const end = Math.min(dim, start + BLOCK);
    scratch.fill(0);
    let s = 0;
    for (; s + 4 <= n; s += 4) {
      const [c0, c1, c2, c3] = [coeffs[s]! / denom, coeffs[s + 1]! / denom, coeffs[s + 2]! / denom, coeffs[s + 3]! / denom];
      const [d0, d1, d2, d3] = [deltas[s]!, deltas[s + 1]!, deltas[s + 2]!, deltas[s + 3]!];
      for (let i = start; i < end; i++) scratch[i - start]! += c0 * d0[i]! + c1 * d1[i]! + c2 * d2[i]! + c3 * d3[i]!;
    }
    for (; s < n; s++) {
      const c = coeffs[s]! / denom;
      const d = deltas[s]!;
      for (let i = start; i < end; i++) scratch[i - start]! += c * d[i]!;
    }
    for (let i = start; i < end; i++) z[i] = scratch[i - start]!;
    for (let t = 0; t < n; t++) {
      const d = deltas[t]!;
      let q = 0;
      for (let i = start; i < end; i++) {
        const e = d[i]! - z[i]!;
        q += e * e;
      }
      dist2[t]! += q;
    }
  }
}
