import { ConfigError } from "../errors.ts";
import { coordinatewise } from "./coordinatewise.ts";
import type { Aggregator } from "./stage.ts";
import { emptyState } from "./strategy.ts";
import { trimmedColumn } from "./weighted-select.ts";

/** Coordinate-wise weighted `beta`-trimmed mean of `deltas` into `out`. */
export function weightedTrimmedMeanOf(deltas: readonly Float32Array[], weights: ArrayLike<number>, beta: number, out: Float32Array): Float32Array {
  return coordinatewise(deltas, weights, out, (keys, words, wts, n, total, res) => trimmedColumn(keys, words, wts, n, total, beta * total, res));
}

/**
 * Coordinate-wise trimmed mean (Yin et al. 2018): each coordinate drops the `beta` fraction of the
 * weight at each end and averages the rest. Weighted by sample counts; with n equal weights and
 * beta·n whole it drops exactly beta·n values at each end, and otherwise trims part of a site at
 * each cut, so that 4 hospitals with beta = 0.2 still trim 0.8 of a site at each end.
 */
export function trimmedMean(beta: number): Aggregator {
  if (!(beta > 0 && beta < 0.5)) throw new ConfigError(`trimmed-mean beta must be in (0, 0.5), got ${beta}`);
  return {
    kind: "aggregator",
    name: "trimmed-mean",
    spec: `trimmed-mean:${beta}`,
    init: () => emptyState,
    aggregate(updates, state, out) {
      weightedTrimmedMeanOf(
        updates.map((u) => u.delta),
        updates.map((u) => u.weight),
        beta,
        out,
      );
      return state;
    },
  };
}
