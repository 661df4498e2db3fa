import { ConfigError } from "../errors.ts";
import { adaptiveSpec, adaptiveStep } from "./adaptive-step.ts";
import { mean } from "./mean.ts";
import { pipeline } from "./pipeline.ts";
import type { ServerStep } from "./stage.ts";
import type { Strategy } from "./strategy.ts";

export interface FedAdamOptions {
  readonly lr?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly tau?: number;
}

const defaults = { lr: 0.05, beta1: 0.9, beta2: 0.99, tau: 1e-3 };

/**
 * FedAdam (Reddi et al. 2021, "Adaptive Federated Optimization"): the aggregate delta is a
 * pseudo-gradient for a server-side Adam step (no bias correction); moments live in the state.
 */
export function fedAdamStep({ lr = defaults.lr, beta1 = defaults.beta1, beta2 = defaults.beta2, tau = defaults.tau }: FedAdamOptions = {}): ServerStep {
  if (!(lr > 0 && lr <= 10)) throw new ConfigError(`fedadam learning rate must be in (0, 10], got ${lr}`);
  if (!(beta1 >= 0 && beta1 < 1)) throw new ConfigError(`fedadam beta1 must be in [0, 1), got ${beta1}`);
  if (!(beta2 >= 0 && beta2 < 1)) throw new ConfigError(`fedadam beta2 must be in [0, 1), got ${beta2}`);
  if (!(tau > 0)) throw new ConfigError(`fedadam tau must be positive, got ${tau}`);
  const spec = adaptiveSpec("fedadam", [lr, beta1, beta2, tau], [defaults.lr, defaults.beta1, defaults.beta2, defaults.tau]);
  return adaptiveStep("fedadam", spec, (global, delta, m, v, model) => {
    for (let i = 0; i < model.length; i++) {
      const d = delta[i]!;
      const mi = beta1 * m[i]! + (1 - beta1) * d;
      const vi = beta2 * v[i]! + (1 - beta2) * d * d;
      m[i] = mi;
      v[i] = vi;
      model[i] = global[i]! + (lr * mi) / (Math.sqrt(vi) + tau);
    }
  });
}

/** FedAdam on the sample-weighted mean delta: the spec `fedadam[:LR[:B1[:B2[:TAU]]]]`. */
export function fedAdam(options: FedAdamOptions = {}): Strategy {
  return pipeline({ transforms: [], aggregator: mean(), server: fedAdamStep(options) });
}
