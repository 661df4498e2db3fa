/** Euclidean norm of `v`, summed in float64. */
export function l2Norm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** `v` scaled to norm at most `bound`: `v` itself when already within it, else a scaled copy. */
export function clipToNorm(v: Float32Array, norm: number, bound: number): Float32Array {
  if (!(norm > bound)) return v;
  const scale = bound / norm;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * scale;
  return out;
}
