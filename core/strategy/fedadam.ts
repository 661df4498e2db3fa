import { ConfigError } from "../errors.ts";
import type { Strategy, StrategyState } from "./strategy.ts";
import { skipReason, weightedMean } from "./weighted-mean.ts";

export interface FedAdamOptions {
  readonly lr?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly tau?: number;
}

const defaults = { lr: 0.05, beta1: 0.9, beta2: 0.99, tau: 1e-3 };

/**
 * FedAdam (Reddi et al. 2021, "Adaptive Federated Optimization"): the weighted mean delta is a
 * pseudo-gradient for a server-side Adam step; moments live in the explicit state.
 */
export function fedAdam({ lr = defaults.lr, beta1 = defaults.beta1, beta2 = defaults.beta2, tau = defaults.tau }: FedAdamOptions = {}): Strategy {
  if (!(lr > 0 && lr <= 10)) throw new ConfigError(`fedadam learning rate must be in (0, 10], got ${lr}`);
  if (!(beta1 >= 0 && beta1 < 1)) throw new ConfigError(`fedadam beta1 must be in [0, 1), got ${beta1}`);
  if (!(beta2 >= 0 && beta2 < 1)) throw new ConfigError(`fedadam beta2 must be in [0, 1), got ${beta2}`);
  if (!(tau > 0)) throw new ConfigError(`fedadam tau must be positive, got ${tau}`);
  const init = (dim: number): StrategyState => ({
    scalars: { t: 0 },
    vectors: { m: new Float32Array(dim), v: new Float32Array(dim) },
  });
  // The spec names every non-default hyperparameter, so createStrategy(spec) rebuilds this strategy.
  const args = [lr, beta1, beta2, tau];
  const standard = [defaults.lr, defaults.beta1, defaults.beta2, defaults.tau];
  while (args.length > 1 && args[args.length - 1] === standard[args.length - 1]) args.pop();
  return {
    spec: `fedadam:${args.join(":")}`,
    init,
    aggregate({ global, updates }, state) {
      const reason = skipReason(updates);
      if (reason) return { kind: "skip", reason, state };
      const dim = global.length;
      const prev = state.vectors.m?.length === dim && state.vectors.v?.length === dim ? state : init(dim);
      const m = Float32Array.from(prev.vectors.m ?? []);
      const v = Float32Array.from(prev.vectors.v ?? []);
      const delta = weightedMean(updates, dim);
      const model = new Float32Array(dim);
      for (let i = 0; i < dim; i++) {
        const d = delta[i] ?? 0;
        const mi = beta1 * (m[i] ?? 0) + (1 - beta1) * d;
        const vi = beta2 * (v[i] ?? 0) + (1 - beta2) * d * d;
        m[i] = mi;
        v[i] = vi;
        model[i] = (global[i] ?? 0) + (lr * mi) / (Math.sqrt(vi) + tau);
      }
      return { kind: "model", model, state: { scalars: { t: (prev.scalars.t ?? 0) + 1 }, vectors: { m, v } } };
    },
  };
}
