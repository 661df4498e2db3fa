import type { Aggregator } from "./stage.ts";
import { emptyState } from "./strategy.ts";
import { weightedMeanOf } from "./weighted-mean.ts";

/**
 * The sample-weighted mean of the deltas (FedAvg, McMahan et al. 2017): the default aggregator,
 * efficient but moved without bound by a single site.
 */
export function mean(): Aggregator {
  return {
    kind: "aggregator",
    name: "mean",
    spec: "",
    init: () => emptyState,
    aggregate(updates, state, out) {
      weightedMeanOf(
        updates.map((u) => u.delta),
        updates.map((u) => u.weight),
        out,
      );
      return state;
    },
  };
}
