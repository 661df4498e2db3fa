import { coordinatewise } from "./coordinatewise.ts";
import type { Aggregator } from "./stage.ts";
import { emptyState } from "./strategy.ts";
import { medianColumn } from "./weighted-select.ts";

/**
 * Coordinate-wise weighted median of `deltas` into `out`: each coordinate takes the value at half
 * the total weight, and the mean of the two values that meet there when half falls between them.
 * With equal weights it is the ordinary median (middle value for odd n, mean of the middle two
 * for even n).
 */
export function weightedMedianOf(deltas: readonly Float32Array[], weights: ArrayLike<number>, out: Float32Array): Float32Array {
  return coordinatewise(deltas, weights, out, medianColumn);
}

/**
 * Coordinate-wise median (Yin et al. 2018, "Byzantine-Robust Distributed Learning: Towards Optimal
 * Statistical Rates"), weighted by sample counts: sites holding less than half the samples cannot
 * move any coordinate beyond the range of the others'.
 */
export function median(): Aggregator {
  return {
    kind: "aggregator",
    name: "median",
    spec: "median",
    init: () => emptyState,
    aggregate(updates, state, out) {
      weightedMedianOf(
        updates.map((u) => u.delta),
        updates.map((u) => u.weight),
        out,
      );
      return state;
    },
  };
}
