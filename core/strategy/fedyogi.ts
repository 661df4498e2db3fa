import { ConfigError } from "../errors.ts";
import { adaptiveSpec, adaptiveStep } from "./adaptive-step.ts";
import type { ServerStep } from "./stage.ts";

export interface FedYogiOptions {
  readonly lr?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly tau?: number;
}

const defaults = { lr: 0.05, beta1: 0.9, beta2: 0.99, tau: 1e-3 };

/**
 * FedYogi (Reddi et al. 2021, Algorithm 2): like FedAdam, but the second moment moves additively,
 * v ← v − (1−β2)·Δ²·sign(v − Δ²), so it grows as fast as Adam's yet shrinks slowly.
 */
export function fedYogiStep({ lr = defaults.lr, beta1 = defaults.beta1, beta2 = defaults.beta2, tau = defaults.tau }: FedYogiOptions = {}): ServerStep {
  if (!(lr > 0 && lr <= 10)) throw new ConfigError(`fedyogi learning rate must be in (0, 10], got ${lr}`);
  if (!(beta1 >= 0 && beta1 < 1)) throw new ConfigError(`fedyogi beta1 must be in [0, 1), got ${beta1}`);
  if (!(beta2 >= 0 && beta2 < 1)) throw new ConfigError(`fedyogi beta2 must be in [0, 1), got ${beta2}`);
  if (!(tau > 0)) throw new ConfigError(`fedyogi tau must be positive, got ${tau}`);
  const spec = adaptiveSpec("fedyogi", [lr, beta1, beta2, tau], [defaults.lr, defaults.beta1, defaults.beta2, defaults.tau]);
  return adaptiveStep("fedyogi", spec, (global, delta, m, v, model) => {
    for (let i = 0; i < model.length; i++) {
      const d = delta[i]!;
      const d2 = d * d;
      const mi = beta1 * m[i]! + (1 - beta1) * d;
      const vi = v[i]! - (1 - beta2) * d2 * Math.sign(v[i]! - d2);
      m[i] = mi;
      v[i] = vi;
      model[i] = global[i]! + (lr * mi) / (Math.sqrt(vi) + tau);
    }
  });
}
