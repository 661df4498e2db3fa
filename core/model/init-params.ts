import type { Layout } from "./layout.ts";

/**
 * Initial shared body: Glorot-uniform hidden kernels (Glorot & Bengio 2010; a convolution's fans
 * count its 3×3 window), zero biases, and a zero output layer so the first model predicts the base
 * rate 0.5 (or 1/K) whatever the seed.
 */
export function initBody(layout: Layout, rng: () => number): Float32Array {
  const out = new Float32Array(layout.bodySize);
  for (const s of layout.body) {
    if (!(s.name.startsWith("dense") || s.name.startsWith("conv")) || !s.name.endsWith("/kernel")) continue;
    const window = s.shape.length === 4 ? (s.shape[0] ?? 1) * (s.shape[1] ?? 1) : 1;
    const [fanIn = 1, fanOut = 1] = s.shape.length === 4 ? [window * (s.shape[2] ?? 1), window * (s.shape[3] ?? 1)] : s.shape;
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < s.size; i++) out[s.offset + i] = (2 * rng() - 1) * limit;
  }
  return out;
}
