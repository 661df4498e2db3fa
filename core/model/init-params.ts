import type { Layout } from "./layout.ts";

/**
 * Initial shared body: Glorot-uniform hidden kernels (Glorot & Bengio 2010), zero biases, and a
 * zero output layer so the first model predicts the base rate 0.5 whatever the seed.
 */
export function initBody(layout: Layout, rng: () => number): Float32Array {
  const out = new Float32Array(layout.bodySize);
  for (const s of layout.body) {
    if (!s.name.startsWith("dense") || !s.name.endsWith("/kernel")) continue;
    const [fanIn = 1, fanOut = 1] = s.shape;
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < s.size; i++) out[s.offset + i] = (2 * rng() - 1) * limit;
  }
  return out;
}
