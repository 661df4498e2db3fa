import type { SiteUpdate } from "./strategy.ts";

/** Sample-weighted mean of the deltas, accumulated in one pass into `out`. */
export function weightedMean(updates: readonly SiteUpdate[], dim: number, out = new Float32Array(dim)): Float32Array {
  const total = updates.reduce((s, u) => s + u.weight, 0);
  out.fill(0);
  for (const u of updates) {
    if (u.delta.length !== dim) throw new Error(`update from ${u.siteId} has ${u.delta.length} values, expected ${dim}`);
    const w = u.weight / total;
    const d = u.delta;
    for (let i = 0; i < dim; i++) out[i] = (out[i] ?? 0) + w * (d[i] ?? 0);
  }
  return out;
}

/** Reasons a round has nothing to aggregate; a strategy skips the round instead of throwing. */
export function skipReason(updates: readonly SiteUpdate[]): string | null {
  if (updates.length === 0) return "no valid updates";
  const total = updates.reduce((s, u) => s + u.weight, 0);
  if (!(total > 0)) return "updates carry no weight";
  return null;
}
