import { ConfigError } from "../errors.ts";
import { adaptiveSpec, adaptiveStep } from "./adaptive-step.ts";
import type { ServerStep } from "./stage.ts";

export interface FedAdagradOptions {
  readonly lr?: number;
  readonly beta1?: number;
  readonly tau?: number;
}

const defaults = { lr: 0.05, beta1: 0.9, tau: 1e-3 };

/**
 * FedAdagrad (Reddi et al. 2021, Algorithm 2): the second moment sums every squared
 * pseudo-gradient, v ← v + Δ², so each coordinate's step shrinks with its history.
 */
export function fedAdagradStep({ lr = defaults.lr, beta1 = defaults.beta1, tau = defaults.tau }: FedAdagradOptions = {}): ServerStep {
  if (!(lr > 0 && lr <= 10)) throw new ConfigError(`fedadagrad learning rate must be in (0, 10], got ${lr}`);
  if (!(beta1 >= 0 && beta1 < 1)) throw new ConfigError(`fedadagrad beta1 must be in [0, 1), got ${beta1}`);
  if (!(tau > 0)) throw new ConfigError(`fedadagrad tau must be positive, got ${tau}`);
  const spec = adaptiveSpec("fedadagrad", [lr, beta1, tau], [defaults.lr, defaults.beta1, defaults.tau]);
  return adaptiveStep("fedadagrad", spec, (global, delta, m, v, model) => {
    for (let i = 0; i < model.length; i++) {
      const d = delta[i]!;
      const mi = beta1 * m[i]! + (1 - beta1) * d;
      const vi = v[i]! + d * d;
      m[i] = mi;
      v[i] = vi;
      model[i] = global[i]! + (lr * mi) / (Math.sqrt(vi) + tau);
    }
  });
}
