import { weightedMeanOf } from "../strategy/weighted-mean.ts";

/**
 * One FedBuff server step (Nguyen et al. 2022): `global` plus `serverLr` times the sum of
 * `deltas` weighted by `weights`, divided by `total` — by default the weights' sum, a weighted
 * mean in which staleness only shifts weight between the buffer's updates. Pass the buffer's
 * samples as `total` (weights being samples × staleness weight) for FedBuff's own scaling, in
 * which a stale buffer moves the model less as a whole. The mean is FedAvg's kernel
 * (`weightedMeanOf`, sites summed in the order given into float32), so with equal staleness
 * weights and the default `total` a flush lands on exactly the bytes of the synchronous FedAvg step.
 *
 * @example
 * applyBuffer(model, deltas, flush.entries.map((e) => e.weight), 1, { total: flush.entries.reduce((n, e) => n + e.samples, 0) });
 */
export function applyBuffer(
  global: Float32Array,
  deltas: readonly Float32Array[],
  weights: ArrayLike<number>,
  serverLr: number,
  options: { readonly total?: number; readonly out?: Float32Array } = {},
): Float32Array {
  const out = options.out ?? new Float32Array(global.length);
  const dim = global.length;
  if (deltas.length === 0) throw new RangeError("applyBuffer needs at least one delta");
  if (weights.length !== deltas.length) throw new RangeError(`applyBuffer got ${deltas.length} deltas but ${weights.length} weights`);
  if (!(Number.isFinite(serverLr) && serverLr > 0)) throw new RangeError(`server learning rate must be finite and positive, got ${serverLr}`);
  if (out.length !== dim) throw new RangeError(`out has ${out.length} values, expected ${dim}`);
  for (let s = 0; s < deltas.length; s++) {
    if (deltas[s]!.length !== dim) throw new RangeError(`delta ${s} has ${deltas[s]!.length} values, expected ${dim}`);
    const w = weights[s]!;
    if (!(Number.isFinite(w) && w > 0)) throw new RangeError(`weight ${s} must be finite and positive, got ${w}`);
  }
  let sum = 0;
  for (let s = 0; s < deltas.length; s++) sum += weights[s]!;
  const total = options.total ?? sum;
  if (!(Number.isFinite(total) && total > 0)) throw new RangeError(`total must be finite and positive, got ${total}`);
  const mean = weightedMeanOf(deltas, weights, new Float32Array(dim));
  // The mean is normalised by the weights' sum: rescale to `total` only when it differs, so the default stays FedAvg's bytes.
  const lr = options.total === undefined ? serverLr : serverLr * (sum / total);
  for (let i = 0; i < dim; i++) out[i] = global[i]! + lr * mean[i]!;
  return out;
}
