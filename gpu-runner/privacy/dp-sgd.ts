/**
 * @module
 * DP-SGD (Abadi et al. 2016) on the shared body: Poisson-sampled batches, every example's gradient
 * over the whole body clipped to norm C, N(0, σ²C²) noise on the clipped sum, divided by the
 * expected batch size q·n. Per-example norms come out of the one batched backward pass
 * (Goodfellow 2015, "Efficient per-example gradient computations").
 */
import * as tf from "@tensorflow/tfjs-core";
import { ConfigError } from "../../core/errors.ts";
import type { Layout } from "../../core/model/layout.ts";
import type { Dataset } from "../../core/preprocess/transform.ts";
import type { TrainOptions, TrainResult } from "../training/train.ts";

export interface DpSgdOptions {
  /** C: each example's gradient over the whole body is scaled down to an L2 norm of at most C. */
  readonly clip: number;
  /** σ: the noise added to each step's sum of clipped gradients has standard deviation σ·C. */
  readonly noiseMultiplier: number;
  /** q: each row joins a step's batch independently with this probability (batchSize / rows). */
  readonly sampleRate: number;
  /** Standard normal draws: `secureNormal` outside tests. */
  readonly noise: () => number;
  /**
   * Uniform draws in [0, 1) for the Poisson sampling: `secureUniform` outside tests. Not
   * `opts.rng`: the runner seeds that from the task's seed and a hash of the site id, both known to
   * the coordinator, who could then replay which rows each step used, and amplification by
   * subsampling (what the accountant's q buys) assumes nobody can.
   */
  readonly uniform: () => number;
}

export interface DpSgdTrainOptions extends TrainOptions {
  readonly dp: DpSgdOptions;
}

/** Rows of one batch, gathered: `rows × dim` inputs and their labels. */
export interface Batch {
  readonly x: Float32Array;
  readonly y: ArrayLike<number>;
  readonly rows: number;
}

function validate(dp: DpSgdOptions): void {
  if (!(Number.isFinite(dp.clip) && dp.clip > 0)) throw new ConfigError(`dp.clip must be a positive finite number, got ${dp.clip}`);
  if (!(Number.isFinite(dp.noiseMultiplier) && dp.noiseMultiplier >= 0)) {
    throw new ConfigError(`dp.noiseMultiplier must be a non-negative finite number, got ${dp.noiseMultiplier}`);
  }
  if (!(dp.sampleRate > 0 && dp.sampleRate <= 1)) throw new ConfigError(`dp.sampleRate must be in (0, 1], got ${dp.sampleRate}`);
}

/**
 * Writes into `out` the sum over the batch of each example's cross-entropy gradient clipped to
 * norm `clip`, and returns the batch's summed cross-entropy. One forward and one backward pass:
 * a dense layer's per-example kernel gradient is `a_i ⊗ δ_i`, so its squared norm is
 * `‖a_i‖²·‖δ_i‖²` (plus `‖δ_i‖²` for the bias), and the clipped sum is `Aᵀ·diag(c)·Δ`.
 *
 * @example
 * const loss = clippedGradientSum(layout, body, { x, y, rows: 1 }, 1, out); // out: one clipped gradient
 */
export function clippedGradientSum(layout: Layout, params: Float32Array, batch: Batch, clip: number, out: Float32Array): number {
  let loss = 0;
  tf.tidy(() => {
    const seg = layout.body.map((s) => tf.tensor(params.subarray(s.offset, s.offset + s.size), s.shape));
    const layers = seg.length / 2;
    const kernel = (k: number) => seg[2 * k] as tf.Tensor2D;
    const bias = (k: number) => seg[2 * k + 1] as tf.Tensor1D;
    // Activations entering each layer; ReLU hidden layers as in `forward` (model.ts).
    const acts: tf.Tensor2D[] = [tf.tensor2d(batch.x, [batch.rows, layout.inputDim])];
    for (let k = 0; k + 1 < layers; k++) acts.push(tf.relu(tf.add(tf.matMul(acts[k] as tf.Tensor2D, kernel(k)), bias(k))) as tf.Tensor2D);
    const logits = tf.add(tf.matMul(acts[layers - 1] as tf.Tensor2D, kernel(layers - 1)), bias(layers - 1)).dataSync();
    // The loss's gradient in the logits: σ(z) − y for one logit, softmax(z) − onehot(y) for K.
    const outputs = logits.length / batch.rows;
    const dOut = new Float32Array(batch.rows * outputs);
    for (let i = 0; i < batch.rows; i++) {
      const y = batch.y[i] ?? 0;
      if (outputs === 1) {
        const z = logits[i] ?? 0;
        loss += Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
        dOut[i] = 1 / (1 + Math.exp(-z)) - y;
        continue;
      }
      let top = -Infinity;
      for (let c = 0; c < outputs; c++) top = Math.max(top, logits[i * outputs + c]!);
      let sum = 0;
      for (let c = 0; c < outputs; c++) sum += Math.exp(logits[i * outputs + c]! - top);
      loss += top + Math.log(sum) - logits[i * outputs + y]!;
      for (let c = 0; c < outputs; c++) dOut[i * outputs + c] = Math.exp(logits[i * outputs + c]! - top) / sum - (c === y ? 1 : 0);
    }
    // tfjs-backend-wasm's transposed matMul is ~10× slower than transpose followed by matMul.
    const deltas: tf.Tensor2D[] = new Array<tf.Tensor2D>(layers);
    let delta: tf.Tensor2D = tf.tensor2d(dOut, [batch.rows, outputs]);
    let sq: tf.Tensor1D = tf.zeros([batch.rows]);
    for (let k = layers - 1; k >= 0; k--) {
      const a = acts[k] as tf.Tensor2D;
      deltas[k] = delta;
      sq = tf.add(sq, tf.mul(tf.add(tf.sum(tf.square(a), 1), 1), tf.sum(tf.square(delta), 1)));
      if (k > 0) delta = tf.mul(tf.matMul(delta, tf.transpose(kernel(k))), tf.step(a));
    }
    const scale = tf.reshape(tf.div(clip, tf.maximum(clip, tf.sqrt(sq))), [-1, 1]);
    for (let k = 0; k < layers; k++) {
      const scaled = tf.mul(deltas[k] as tf.Tensor2D, scale);
      const kSeg = layout.body[2 * k];
      const bSeg = layout.body[2 * k + 1];
      if (kSeg) out.set(tf.matMul(tf.transpose(acts[k] as tf.Tensor2D), scaled).dataSync(), kSeg.offset);
      if (bSeg) out.set(tf.sum(scaled, 0).dataSync(), bSeg.offset);
    }
  });
  return loss;
}

/**
 * Poisson sampling: each of `rows` rows is in the batch independently with probability `q`. The
 * gaps between picked rows are geometric, so a step costs about q·rows draws instead of rows.
 */
export function poissonSample(rows: number, q: number, uniform: () => number, out: Int32Array): number {
  let m = 0;
  if (q >= 1) {
    for (; m < rows; m++) out[m] = m;
    return m;
  }
  const logMiss = Math.log1p(-q);
  const gap = () => Math.floor(Math.log1p(-uniform()) / logMiss);
  for (let i = gap(); i < rows; i += 1 + gap()) out[m++] = i;
  return m;
}

/**
 * `trainBody` with differential privacy: as many steps as it would run, each on a Poisson-sampled
 * batch (an empty one still takes its noisy step). L2, SCAFFOLD's `correction` and FedProx's
 * `proximal` gradients are added after the noise: they do not depend on the data. `steps` is the
 * number of noisy steps taken, what the privacy accountant counts. `loss` (the mean batch loss over
 * the last epoch's worth of non-empty steps, L2 penalty included) is NOT private.
 *
 * @example
 * const r = dpSgd(layout, body, data, { ...opts, dp: { clip: 1, noiseMultiplier: 1.1, sampleRate: opts.batchSize / data.rows, noise: secureNormal, uniform: secureUniform } });
 */
export function dpSgd(layout: Layout, body: Float32Array, data: Dataset, opts: DpSgdTrainOptions): TrainResult {
  validate(opts.dp);
  const perEpoch = Math.ceil(data.rows / opts.batchSize);
  const total = opts.steps ?? perEpoch * opts.epochs;
  if (data.rows === 0 || total === 0) return { params: Float32Array.from(body), loss: 0, steps: 0 };
  const { clip, noiseMultiplier, sampleRate, noise, uniform } = opts.dp;
  const sd = noiseMultiplier * clip;
  const expected = sampleRate * data.rows;
  const lr = opts.learningRate;
  const correction = opts.correction;
  const mu = opts.proximal?.mu ?? 0;
  const anchor = opts.proximal && mu > 0 ? opts.proximal.anchor : null;
  const w = Float32Array.from(body);
  const sum = new Float32Array(layout.bodySize);
  const picked = new Int32Array(data.rows);
  const bx = new Float32Array(data.rows * data.dim);
  const by = new Float32Array(data.rows);
  const recent: number[] = [];
  for (let step = 0; step < total; step++) {
    const m = poissonSample(data.rows, sampleRate, uniform, picked);
    for (let i = 0; i < m; i++) {
      const r = picked[i] ?? 0;
      bx.set(data.x.subarray(r * data.dim, (r + 1) * data.dim), i * data.dim);
      by[i] = data.y[r] ?? 0;
    }
    const batchLoss = m > 0 ? clippedGradientSum(layout, w, { x: bx.subarray(0, m * data.dim), y: by, rows: m }, clip, sum) / m : 0;
    if (m === 0) sum.fill(0);
    let penalty = 0;
    layout.body.forEach((s, segment) => {
      const decay = segment % 2 === 0 ? opts.l2 : 0;
      for (let j = s.offset; j < s.offset + s.size; j++) {
        const v = w[j] ?? 0;
        let g = ((sum[j] ?? 0) + (sd > 0 ? sd * noise() : 0)) / expected + decay * v;
        if (correction) g += correction[j] ?? 0;
        if (anchor) g += mu * (v - (anchor[j] ?? 0));
        if (decay > 0) penalty += v * v;
        w[j] = v - lr * g;
      }
    });
    if (m > 0) recent.push(batchLoss + (opts.l2 / 2) * penalty);
    if (recent.length > perEpoch) recent.shift();
  }
  const loss = recent.length === 0 ? 0 : recent.reduce((a, b) => a + b, 0) / recent.length;
  return { params: w, loss, steps: total };
}
