import type { ServerStep } from "./stage.ts";
import type { StrategyState } from "./strategy.ts";

/** One server optimizer update over every coordinate: reads and writes `m`, `v`, writes `model`. */
export type AdaptiveKernel = (global: Float32Array, delta: Float32Array, m: Float32Array, v: Float32Array, model: Float32Array) => void;

/**
 * The part FedAdam, FedYogi and FedAdagrad (Reddi et al. 2021, Algorithm 2) share: moments `m`
 * and `v` and a step count `t` in the explicit state, fresh zero moments when the stored ones do
 * not fit the model, and copies so that the state passed in is never written.
 */
export function adaptiveStep(name: string, spec: string, kernel: AdaptiveKernel): ServerStep {
  const init = (dim: number): StrategyState => ({
    scalars: { t: 0 },
    vectors: { m: new Float32Array(dim), v: new Float32Array(dim) },
  });
  return {
    kind: "server",
    name,
    spec,
    init,
    step(global, delta, state) {
      const dim = global.length;
      const prev = state.vectors.m?.length === dim && state.vectors.v?.length === dim ? state : init(dim);
      const m = Float32Array.from(prev.vectors.m ?? []);
      const v = Float32Array.from(prev.vectors.v ?? []);
      const model = new Float32Array(dim);
      kernel(global, delta, m, v, model);
      return { model, state: { scalars: { t: (prev.scalars.t ?? 0) + 1 }, vectors: { m, v } } };
    },
  };
}

/** The spec naming every non-default hyperparameter, so that `createStrategy(spec)` rebuilds the step. */
export function adaptiveSpec(name: string, args: readonly number[], defaults: readonly number[]): string {
  const shown = [...args];
  while (shown.length > 1 && shown[shown.length - 1] === defaults[shown.length - 1]) shown.pop();
  return `${name}:${shown.join(":")}`;
}
