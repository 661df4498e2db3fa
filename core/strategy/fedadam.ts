import { ConfigError } from "../errors.ts";
import type { Strategy, StrategyState } from "./strategy.ts";
import { skipReason, weightedMean } from "./weighted-mean.ts";

export interface FedAdamOptions {
  readonly lr?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly tau?: number;
}

/**
 * FedAdam (Reddi et al. 2021, "Adaptive Federated Optimization"): the weighted mean delta is a
 * pseudo-gradient for a server-side Adam step; moments live in the explicit state.
 */
export function fedAdam({ lr = 0.05, beta1 = 0.9, beta2 = 0.99, tau = 1e-3 }: FedAdamOptions = {}): Strategy {
  if (!(lr > 0 && lr <= 10)) throw new ConfigError(`fedadam learning rate must be in (0, 10], got ${lr}`);
  if (!(beta1 >= 0 && beta1 < 1)) throw new ConfigError(`fedadam beta1 must be in [0, 1), got ${beta1}`);
  if (!(beta2 >= 0 && beta2 < 1)) throw new ConfigError(`fedadam beta2 must be in [0, 1), got ${beta2}`);
  if (!(tau > 0)) throw new ConfigError(`fedadam tau must be positive, got ${tau}`);
  const init = (dim: number): StrategyState => ({
    scalars: { t: 0 },
    vectors: { m: new Float32Array(dim), v: new Float32Array(dim) },
  });
  return {
    spec: `fedadam:${lr}`,
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
