import { ConfigError } from "../errors.ts";
import type { Aggregator } from "./stage.ts";
import { emptyState } from "./strategy.ts";
import { weightedMeanOf } from "./weighted-mean.ts";

/** Coordinates per block: every delta's block stays in L2 while all pairs read it. */
const BLOCK = 1024;

/**
 * Squared distances between every pair of deltas, as an n×n symmetric matrix, summed in float64.
 * Each delta is compared with four others per sweep, so that its values are loaded a quarter as often.
 */
export function pairwiseDistances(deltas: readonly Float32Array[]): Float64Array {
  const n = deltas.length;
  const dim = deltas[0]?.length ?? 0;
  const dist = new Float64Array(n * n);
  for (let start = 0; start < dim; start += BLOCK) {
    const end = Math.min(dim, start + BLOCK);
    for (let a = 0; a < n; a++) {
      const x = deltas[a]!;
      let b = a + 1;
      for (; b + 4 <= n; b += 4) {
        const [y0, y1, y2, y3] = [deltas[b]!, deltas[b + 1]!, deltas[b + 2]!, deltas[b + 3]!];
        let [q0, q1, q2, q3] = [0, 0, 0, 0];
        for (let i = start; i < end; i++) {
          const v = x[i]!;
          const e0 = v - y0[i]!;
          const e1 = v - y1[i]!;
          const e2 = v - y2[i]!;
          const e3 = v - y3[i]!;
          q0 += e0 * e0;
          q1 += e1 * e1;
          q2 += e2 * e2;
          q3 += e3 * e3;
        }
        dist[a * n + b]! += q0;
        dist[a * n + b + 1]! += q1;
        dist[a * n + b + 2]! += q2;
        dist[a * n + b + 3]! += q3;
      }
      for (; b < n; b++) {
        const y = deltas[b]!;
        let q = 0;
        for (let i = start; i < end; i++) {
          const e = x[i]! - y[i]!;
          q += e * e;
        }
        dist[a * n + b]! += q;
      }
    }
  }
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) dist[b * n + a] = dist[a * n + b]!;
  return dist;
}

/**
 * The indices Multi-Krum keeps: each site scores the sum of squared distances to its
 * n − f − 2 nearest others (at least 1, at most n − 1), and the `m` lowest scores are kept, ties
 * going to the site id first in order so that arrival order never matters.
 */
export function krumSelect(deltas: readonly Float32Array[], ids: readonly string[], f: number, m: number): number[] {
  const n = deltas.length;
  const dist = pairwiseDistances(deltas);
  const neighbours = Math.max(1, Math.min(n - 1, n - f - 2));
  const scores = deltas.map((_, a) => {
    const row = Array.from({ length: n }, (_, b) => dist[a * n + b]!).filter((_, b) => b !== a);
    return row.sort((x, y) => x - y).slice(0, neighbours).reduce((s, d) => s + d, 0);
  });
  const order = deltas.map((_, a) => a).sort((a, b) => scores[a]! - scores[b]! || (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0));
  return order.slice(0, Math.min(n, m)).sort((a, b) => a - b);
}

/**
 * Multi-Krum (Blanchard et al. 2017, "Machine Learning with Adversaries: Byzantine Tolerant
 * Gradient Descent"): assuming at most `f` Byzantine sites, keep the `m` deltas closest to their
 * n − f − 2 nearest neighbours (m = n − f unless given) and take their sample-weighted mean.
 * Scores count sites, not samples. The guarantee needs n ≥ 2f + 3; with fewer sites it still
 * aggregates (as Flower does) rather than stall the federation.
 */
export function krum(f: number, m?: number): Aggregator {
  if (!(Number.isInteger(f) && f >= 0)) throw new ConfigError(`krum byzantine count must be a whole number ≥ 0, got ${f}`);
  if (m !== undefined && !(Number.isInteger(m) && m >= 1)) throw new ConfigError(`krum selection count must be a whole number ≥ 1, got ${m}`);
  return {
    kind: "aggregator",
    name: "krum",
    spec: m === undefined ? `krum:${f}` : `krum:${f}:${m}`,
    init: () => emptyState,
    aggregate(updates, state, out) {
      const n = updates.length;
      const kept = krumSelect(
        updates.map((u) => u.delta),
        updates.map((u) => u.siteId),
        f,
        m ?? Math.max(1, n - f),
      );
      weightedMeanOf(
        kept.map((s) => updates[s]!.delta),
        kept.map((s) => updates[s]!.weight),
        out,
      );
      return state;
    },
  };
}
