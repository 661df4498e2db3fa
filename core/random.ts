/**
 * @module
 * Seeded randomness for everything that must repeat for a seed: weight initialisation, data
 * splits, site draws in simulation. Not for secrets or privacy noise (those draw from node:crypto).
 */

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
