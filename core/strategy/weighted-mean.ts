import type { SiteUpdate } from "./strategy.ts";

/** Coordinates per block: a block of the output stays in L1 while every site adds into it. */
const BLOCK = 2048;

/**
 * Sample-weighted mean of `deltas` into `out`. Each coordinate sums the sites in order into a
 * float32, so the result is bit-for-bit the one-pass accumulation FedAvg has always produced;
 * the blocking only keeps the running sums in cache.
 */
export function weightedMeanOf(deltas: readonly Float32Array[], weights: ArrayLike<number>, out: Float32Array): Float32Array {
  const dim = out.length;
  let total = 0;
  for (let s = 0; s < deltas.length; s++) total += weights[s]!;
  out.fill(0);
  for (let start = 0; start < dim; start += BLOCK) {
    const end = Math.min(dim, start + BLOCK);
    for (let s = 0; s < deltas.length; s++) {
      const w = weights[s]! / total;
      const d = deltas[s]!;
      for (let i = start; i < end; i++) out[i]! += w * d[i]!;
    }
  }
  return out;
}

/** Sample-weighted mean of the deltas into `out`, checking each delta's length first. */
export function weightedMean(updates: readonly SiteUpdate[], dim: number, out = new Float32Array(dim)): Float32Array {
  for (const u of updates) {
    if (u.delta.length !== dim) throw new Error(`update from ${u.siteId} has ${u.delta.length} values, expected ${dim}`);
  }
  return weightedMeanOf(
    updates.map((u) => u.delta),
    updates.map((u) => u.weight),
    out,
  );
}

/** Reasons a round has nothing to aggregate; a strategy skips the round instead of throwing. */
export function skipReason(updates: readonly SiteUpdate[]): string | null {
  if (updates.length === 0) return "no valid updates";
  const total = updates.reduce((s, u) => s + u.weight, 0);
  if (!(total > 0)) return "updates carry no weight";
  return null;
}
