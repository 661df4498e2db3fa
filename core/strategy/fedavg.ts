import { ConfigError } from "../errors.ts";
import { emptyState, type Strategy } from "./strategy.ts";
import { skipReason, weightedMean } from "./weighted-mean.ts";

/**
 * FedAvg (McMahan et al. 2017): the new body is the old one plus the sample-weighted mean delta,
 * scaled by a server learning rate (1 by default).
 */
export function fedAvg(serverLr = 1): Strategy {
  if (!(serverLr > 0 && serverLr <= 10)) throw new ConfigError(`fedavg server learning rate must be in (0, 10], got ${serverLr}`);
  return {
    spec: serverLr === 1 ? "fedavg" : `fedavg:${serverLr}`,
    init: () => emptyState,
    aggregate({ global, updates }, state) {
      const reason = skipReason(updates);
      if (reason) return { kind: "skip", reason, state };
      const mean = weightedMean(updates, global.length);
      const model = new Float32Array(global.length);
      for (let i = 0; i < model.length; i++) model[i] = (global[i] ?? 0) + serverLr * (mean[i] ?? 0);
      return { kind: "model", model, state };
    },
  };
}
