import { ConfigError } from "../errors.ts";
import type { Strategy, StrategyState } from "./strategy.ts";
import { skipReason, weightedMean } from "./weighted-mean.ts";

/**
 * SCAFFOLD (Karimireddy et al. 2020, option II): sites correct each local gradient by `c - c_i`
 * so that heterogeneous hospitals stop pulling the model towards their own optima (client drift).
 * The server averages body deltas like FedAvg and moves its control `c` by the mean control delta.
 * Means are sample-weighted over the sites that reported, which is the paper's update under full
 * participation.
 */
export function scaffold(serverLr = 1): Strategy {
  if (!(serverLr > 0 && serverLr <= 10)) throw new ConfigError(`scaffold server learning rate must be in (0, 10], got ${serverLr}`);
  const init = (dim: number): StrategyState => ({ scalars: {}, vectors: { c: new Float32Array(dim) } });
  return {
    spec: serverLr === 1 ? "scaffold" : `scaffold:${serverLr}`,
    controlVariates: true,
    init,
    aggregate({ global, updates }, state) {
      const reason = skipReason(updates);
      if (reason) return { kind: "skip", reason, state };
      const dim = global.length;
      const mean = weightedMean(updates, dim);
      const controls = updates.map((u) => {
        if (u.control?.length !== dim) throw new Error(`update from ${u.siteId} has no control delta of ${dim} values`);
        return { siteId: u.siteId, weight: u.weight, delta: u.control };
      });
      const model = new Float32Array(dim);
      for (let i = 0; i < dim; i++) model[i] = (global[i] ?? 0) + serverLr * (mean[i] ?? 0);
      const prev = state.vectors.c?.length === dim ? state.vectors.c : new Float32Array(dim);
      const c = weightedMean(controls, dim);
      for (let i = 0; i < dim; i++) c[i] = (prev[i] ?? 0) + (c[i] ?? 0);
      return { kind: "model", model, state: { scalars: state.scalars, vectors: { c } } };
    },
  };
}
