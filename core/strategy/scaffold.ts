import { ConfigError } from "../errors.ts";
import { mean } from "./mean.ts";
import { pipeline } from "./pipeline.ts";
import type { ServerStep } from "./stage.ts";
import type { Strategy, StrategyState } from "./strategy.ts";
import { weightedMean } from "./weighted-mean.ts";

/**
 * SCAFFOLD (Karimireddy et al. 2020, option II): sites correct each local gradient by `c - c_i`
 * so that heterogeneous hospitals stop pulling the model towards their own optima (client drift).
 * The server steps by the mean body delta like FedAvg and moves its control `c` by the mean control
 * delta. Means are sample-weighted over the sites that reported, which is the paper's update under
 * full participation. The control stays the plain mean of every site's, so this step follows the
 * plain mean only: in front of a robust aggregator the unfiltered controls would still let the
 * sites it guards against steer every honest site's correction.
 */
export function scaffoldStep(serverLr = 1): ServerStep {
  if (!(serverLr > 0 && serverLr <= 10)) throw new ConfigError(`scaffold server learning rate must be in (0, 10], got ${serverLr}`);
  const init = (dim: number): StrategyState => ({ scalars: {}, vectors: { c: new Float32Array(dim) } });
  return {
    kind: "server",
    name: "scaffold",
    spec: serverLr === 1 ? "scaffold" : `scaffold:${serverLr}`,
    controlVariates: true,
    init,
    step(global, delta, state, updates) {
      const dim = global.length;
      const controls = updates.map((u) => {
        if (u.control?.length !== dim) throw new Error(`update from ${u.siteId} has no control delta of ${dim} values`);
        return { siteId: u.siteId, weight: u.weight, delta: u.control };
      });
      const model = new Float32Array(dim);
      for (let i = 0; i < dim; i++) model[i] = global[i]! + serverLr * delta[i]!;
      const prev = state.vectors.c?.length === dim ? state.vectors.c : new Float32Array(dim);
      const c = weightedMean(controls, dim);
      for (let i = 0; i < dim; i++) c[i] = prev[i]! + c[i]!;
      return { model, state: { scalars: state.scalars, vectors: { c } } };
    },
  };
}

/** SCAFFOLD with its server learning rate: the spec `scaffold[:LR]`. */
export function scaffold(serverLr = 1): Strategy {
  return pipeline({ transforms: [], aggregator: mean(), server: scaffoldStep(serverLr) });
}
