/**
 * A uniformly random `k`-subset of [0, n), drawn from a 32-bit `seed`, in increasing order: the
 * coordinates a rand-k update keeps, which anyone holding the seed can draw again.
 *
 * Selection sampling (Fan, Muller and Rezucha 1962; Knuth, TAOCP vol. 2, 3.4.2, Algorithm S):
 * coordinate i is kept when `below(n - i) < k - kept so far`, which keeps it with exactly the
 * probability that makes every k-subset equally likely, and stops once k are kept. Draws come from
 * mulberry32 (Tommy Ettinger, public domain) seeded with `seed`; `below(m)` takes the next 32-bit
 * draw `r`, rejects it while `r ≥ 2^32 - (2^32 mod m)`, and returns `r mod m`, so it is exactly
 * uniform. State is O(1) and coordinates come out in order, so a decoder can stream them chunk
 * by chunk; this function keeps the k of them in `kept`, O(k) memory.
 *
 * @example
 * seededSubset(10, 3, 42); // three distinct increasing coordinates below 10, the same for seed 42 every time
 */
export function seededSubset(n: number, k: number, seed: number, kept: Uint32Array = new Uint32Array(k)): Uint32Array {
  const next = mulberry32(seed);
  for (let i = 0, j = 0; j < k; i++) if (below(n - i, next) < k - j) kept[j++] = i;
  return kept;
}

/** mulberry32's 32-bit outputs; its own copy, so that the wire format cannot change with `seededRandom`. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A uniform integer in [0, m), 1 ≤ m ≤ 2^32, by rejection. */
function below(m: number, next: () => number): number {
  const limit = 2 ** 32 - (2 ** 32 % m);
  let r = next();
  while (r >= limit) r = next();
  return r % m;
}
