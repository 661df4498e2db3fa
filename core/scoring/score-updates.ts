/**
 * @module
 * Validation-free contribution scores: how far each site's delta lies from the robust centre of
 * the round, and whether it points the way the aggregate went (cf. Fung et al. 2020, FoolsGold;
 * Cao et al. 2021, FLTrust, for cosine agreement against a trusted direction).
 */
import { z } from "zod";
import { l2Norm } from "../strategy/l2.ts";
import { weightedMedianOf } from "../strategy/median.ts";
import type { SiteUpdate } from "../strategy/strategy.ts";

export const SiteScore = z.object({
  siteId: z.string(),
  /** ‖δᵢ − m‖ over the median across sites of ‖δⱼ − m‖, m the coordinate-wise median of the deltas. */
  distance: z.number().nonnegative(),
  /** Cosine of δᵢ and the aggregate delta; 0 when either is zero. */
  agreement: z.number().min(-1).max(1),
});
export type SiteScore = z.infer<typeof SiteScore>;

/**
 * Below this share of ‖m‖ a spread of distances is rounding noise: the median distance is floored
 * there, so that near-identical honest sites do not score huge ratios against a median of zero.
 */
const RELATIVE_FLOOR = 1e-6;

function distanceTo(v: Float32Array, m: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) {
    const d = v[i]! - m[i]!;
    s += d * d;
  }
  return Math.sqrt(s);
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  const norms = l2Norm(a) * l2Norm(b);
  return norms === 0 ? 0 : Math.max(-1, Math.min(1, dot / norms));
}

function medianOf(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Scores each update against the round's other updates and its aggregate delta (model − global).
 * Every delta must have the aggregate's length; weights play no part, so that a site cannot buy
 * itself a better score by claiming more samples.
 *
 * @example
 * scoreUpdates([{ siteId: "a", delta, weight: 3 }, …], aggregate) // [{ siteId: "a", distance: 0.8, agreement: 0.97 }, …]
 */
export function scoreUpdates(updates: readonly SiteUpdate[], aggregate: Float32Array): SiteScore[] {
  if (updates.length === 0) return [];
  const deltas = updates.map((u) => u.delta);
  const centre = weightedMedianOf(deltas, new Float64Array(deltas.length).fill(1), new Float32Array(aggregate.length));
  const distances = deltas.map((d) => distanceTo(d, centre));
  const scale = Math.max(medianOf(distances), RELATIVE_FLOOR * l2Norm(centre), Number.MIN_VALUE);
  return updates.map((u, i) => ({ siteId: u.siteId, distance: distances[i]! / scale, agreement: cosine(u.delta, aggregate) }));
}
