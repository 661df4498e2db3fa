import type { Layout } from "./layout.ts";

/** A seeded uniform source in [0, 1): mulberry32, enough for weight initialisation. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Shuffles `xs` in place (Fisher–Yates, one draw per position from the end) and returns it.
 *
 * @example
 * shuffle([...Array(10).keys()], seededRandom(7)); // the site order for seed 7
 */
export function shuffle<T>(xs: T[], rng: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
  }
  return xs;
}

/**
 * One standard normal draw (Box–Muller, two uniforms).
 *
 * @example
 * const noise = sigma * standardNormal(rng);
 */
export function standardNormal(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

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
