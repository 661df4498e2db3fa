/**
 * @module
 * Validation-free contribution scores: how each site's delta compares with the robust centre of the
 * round's trusted cohort (the sites not in quarantine) in direction and in size, and whether it
 * points the way the aggregate went (cf. Fung et al. 2020, FoolsGold; Cao et al. 2021, FLTrust, for
 * cosine agreement against a trusted direction).
 *
 * Direction only means something in a round whose honest updates agree with each other: after the
 * first rounds of a non-IID federation every honest site pulls towards its own optimum and their
 * pairwise cosines turn negative (the deltas nearly cancel at the fixed point). The round's
 * `coherence`, the alignment with its own centre that at least half the trusted cohort reaches, says how far the
 * direction scores of that round can be trusted; the policy reads them only when it is high.
 */
import { z } from "zod";
import { countMedian } from "../strategy/count-median.ts";
import { l2Norm } from "../strategy/l2.ts";
import { weightedMedianOf } from "../strategy/median.ts";
import type { SiteUpdate } from "../strategy/strategy.ts";

export const SiteScore = z.object({
  siteId: z.string(),
  /** ‖δᵢ − m‖ over the median across the cohort of ‖δⱼ − m‖, m the cohort's coordinate-wise median. */
  distance: z.number().nonnegative(),
  /** Cosine of δᵢ and the aggregate delta; 0 when either is zero. */
  agreement: z.number().min(-1).max(1),
  /** Cosine of δᵢ and the cohort's coordinate-wise median m; 0 when either is zero. */
  alignment: z.number().min(-1).max(1),
  /** ‖δᵢ‖ over the median of the cohort's norms. */
  norm: z.number().nonnegative(),
  /** With a coordinator-held validation set: the update's marginal gain (see marginalGains). */
  gain: z.number().optional(),
});
export type SiteScore = z.infer<typeof SiteScore>;

/**
 * Fewer trusted sites than this and a round has no centre to measure coherence against: the
 * coordinate-wise median of three vectors is, coordinate by coordinate, one of them, which inflates
 * every alignment (on heart-disease, three honest hospitals scored coherence 0.51 in a round where
 * the four scored 0.25).
 */
export const MIN_COHORT = 4;

export const RoundScoring = z.object({
  /** The alignment at least half the trusted cohort reaches (upper median); null with fewer than MIN_COHORT trusted sites. */
  coherence: z.number().min(-1).max(1).nullable(),
  scores: z.array(SiteScore),
});
export type RoundScoring = z.infer<typeof RoundScoring>;

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

/**
 * The value at least half of `xs` reach: the median for an odd count, the higher middle value for
 * an even one. An attacker among four sites drags the plain median of their alignments with it (on
 * heart-disease a ×−10 hospital pulled round 1 from 0.68 to 0.47, below the gate, and went unjudged).
 */
function upperMedianOf(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => b - a);
  return s[(s.length - 1) >> 1]!;
}


/**
 * Scores each update against the round's trusted cohort (every site not in `excluded`; all of them
 * when none is trusted) and against the aggregate delta (model − global). Every delta must have the
 * aggregate's length; weights play no part, so that a site cannot buy itself a better score by
 * claiming more samples.
 *
 * @example
 * scoreUpdates([{ siteId: "a", delta, weight: 3 }, …], aggregate, ["q"]) // { coherence: 0.8, scores: [{ siteId: "a", alignment: 0.9, norm: 1.1, … }, …] }
 */
export function scoreUpdates(updates: readonly SiteUpdate[], aggregate: Float32Array, excluded: readonly string[] = []): RoundScoring {
  if (updates.length === 0) return { coherence: null, scores: [] };
  const trusted = updates.filter((u) => !excluded.includes(u.siteId));
  const cohort = (trusted.length > 0 ? trusted : updates).map((u) => u.delta);
  const centre = weightedMedianOf(cohort, new Float64Array(cohort.length).fill(1), new Float32Array(aggregate.length));
  const floor = Math.max(RELATIVE_FLOOR * l2Norm(centre), Number.MIN_VALUE);
  const distanceScale = Math.max(countMedian(cohort.map((d) => distanceTo(d, centre))), floor);
  const normScale = Math.max(countMedian(cohort.map((d) => l2Norm(d))), floor);
  const scores = updates.map((u) => ({
    siteId: u.siteId,
    distance: distanceTo(u.delta, centre) / distanceScale,
    agreement: cosine(u.delta, aggregate),
    alignment: cosine(u.delta, centre),
    norm: l2Norm(u.delta) / normScale,
  }));
  const cohortAlignment = scores.filter((s) => !excluded.includes(s.siteId) || trusted.length === 0).map((s) => s.alignment);
  return { coherence: cohortAlignment.length >= MIN_COHORT ? upperMedianOf(cohortAlignment) : null, scores };
}
