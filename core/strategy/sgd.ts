import { ConfigError } from "../errors.ts";
import type { ServerStep } from "./stage.ts";
import { emptyState } from "./strategy.ts";

/**
 * The plain server step: the new body is the old one plus the aggregate scaled by a server
 * learning rate (Reddi et al. 2021 call this FedAvg's server SGD with learning rate η).
 * `name` is what the spec calls it: `sgd` after any aggregator, `fedavg` for the mean.
 */
export function sgd(serverLr = 1, name: "sgd" | "fedavg" = "sgd"): ServerStep {
  if (!(serverLr > 0 && serverLr <= 10)) throw new ConfigError(`${name} server learning rate must be in (0, 10], got ${serverLr}`);
  const plain = name === "fedavg" ? "fedavg" : "";
  return {
    kind: "server",
    name,
    spec: serverLr === 1 ? plain : `${name}:${serverLr}`,
    init: () => emptyState,
    step(global, delta) {
      const model = new Float32Array(global.length);
      for (let i = 0; i < model.length; i++) model[i] = global[i]! + serverLr * delta[i]!;
      return { model, state: emptyState };
    },
  };
}
