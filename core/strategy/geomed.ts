import { ConfigError } from "../errors.ts";
import { countMedian } from "./count-median.ts";
import { l2Norm } from "./l2.ts";
import type { Aggregator } from "./stage.ts";
import { emptyState } from "./strategy.ts";
import { WEISZFELD_SCRATCH, weiszfeldPass } from "./weiszfeld-pass.ts";

/** Stop once an iteration lowers Σ α‖z − x‖ by less than this fraction (RFA's ftol). */
const TOLERANCE = 1e-6;
/** A site whose norm exceeds this many median norms counts less at the start, in proportion. */
const START_CLIP = 2;
/** Distances below this fraction of the mean distance count as this much (the ν of smoothed Weiszfeld), so weights stay finite. */
const SMOOTHING = 1e-6;

/**
 * Weighted geometric median of `deltas` into `out` by smoothed Weiszfeld iterations, at most
 * `maxIterations` after the start; returns how many ran. The start is RFA's weighted mean, except
 * that a site whose norm exceeds r = 2 × the median norm weighs r/‖x‖ of its share: with few
 * iterations, a start dragged far off by one huge delta would not make it back.
 */
export function geometricMedianOf(deltas: readonly Float32Array[], weights: ArrayLike<number>, maxIterations: number, out: Float32Array, tolerance = TOLERANCE): number {
  const n = deltas.length;
  let total = 0;
  for (let s = 0; s < n; s++) total += weights[s]!;
  const alpha = Float64Array.from({ length: n }, (_, s) => weights[s]! / total);
  const norms = deltas.map(l2Norm);
  const bound = START_CLIP * countMedian(norms);
  const coeffs = Float64Array.from({ length: n }, (_, s) => (norms[s]! > bound ? (alpha[s]! * bound) / norms[s]! : alpha[s]!));
  const dist2 = new Float64Array(n);
  const scratch = new Float64Array(WEISZFELD_SCRATCH);
  weiszfeldPass(deltas, coeffs, out, dist2, scratch);
  let objective = 0;
  for (let s = 0; s < n; s++) objective += alpha[s]! * Math.sqrt(dist2[s]!);
  if (objective === 0) return 0;
  const nu = SMOOTHING * objective;
  for (let t = 1; t <= maxIterations; t++) {
    for (let s = 0; s < n; s++) coeffs[s] = alpha[s]! / Math.max(nu, Math.sqrt(dist2[s]!));
    weiszfeldPass(deltas, coeffs, out, dist2, scratch);
    let next = 0;
    for (let s = 0; s < n; s++) next += alpha[s]! * Math.sqrt(dist2[s]!);
    if (Math.abs(objective - next) <= tolerance * next) return t;
    objective = next;
  }
  return maxIterations;
}

/** Iterations by default: on attacked synthetic rounds 4 landed within 0.02 (relative) of 30, at under 8× FedAvg's time. */
const ITERATIONS = 4;

/**
 * Geometric median (RFA, Pillutla et al. 2022, "Robust Aggregation for Federated Learning"): the
 * point minimising the sample-weighted sum of distances to the deltas, which sites holding less
 * than half the samples cannot move arbitrarily far.
 */
export function geomed(maxIterations = ITERATIONS): Aggregator {
  if (!(Number.isInteger(maxIterations) && maxIterations >= 1 && maxIterations <= 100)) {
    throw new ConfigError(`geomed iterations must be a whole number in [1, 100], got ${maxIterations}`);
  }
  return {
    kind: "aggregator",
    name: "geomed",
    spec: maxIterations === ITERATIONS ? "geomed" : `geomed:${maxIterations}`,
    init: () => emptyState,
    aggregate(updates, state, out) {
      geometricMedianOf(
        updates.map((u) => u.delta),
        updates.map((u) => u.weight),
        maxIterations,
        out,
      );
      return state;
    },
  };
}
