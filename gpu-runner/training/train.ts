/**
 * @module
 * Local training: minibatch gradient descent on cross-entropy (binary, or softmax over K classes) with an L2 penalty, over the
 * shared body (federated rounds, local-only and centralized baselines) or over the personal head
 * alone with the body frozen (personalisation, as in FedPer/FedRep).
 */
import * as tf from "@tensorflow/tfjs-core";
// tfjs-core ships forward kernels only; the umbrella package registers every gradient (shared
// global registry), which the dist ESM of tfjs-core cannot do under Node's resolver.
import "@tensorflow/tfjs";
import { outputsOf, type Layout } from "../../core/model/layout.ts";
import type { Dataset } from "../../core/preprocess/transform.ts";
import { conv, createVars, dense, disposeVars, forward, readVars, tfjsConv, tfjsDense, type Conv, type Dense } from "../model/model.ts";

export interface TrainOptions {
  readonly epochs: number;
  /** Exactly this many minibatch steps (walking through reshuffled epochs) instead of `epochs`. */
  readonly steps?: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** L2 on the trained kernels: the body's, or the head's (its bias stays free to re-calibrate). */
  readonly l2: number;
  readonly rng: () => number;
  /**
   * A constant added to the body's gradient at every step (SCAFFOLD's `c - c_i`), realised as the
   * linear loss term `<w, correction>` whose gradient it is.
   */
  readonly correction?: Float32Array;
  /**
   * FedProx (Li et al. 2020): adds `mu/2 · ‖w − anchor‖²` over the whole body to what is minimised
   * (not to the reported loss), `anchor` being the global body the round started from.
   */
  readonly proximal?: { readonly mu: number; readonly anchor: Float32Array };
  /** The body's layers that train, by their kernel's or bias's segment index (all when absent): a fine-tune of the last layers. */
  readonly trainable?: (segment: number) => boolean;
  /** `trainBody` only: a personal head held frozen in the forward pass (fedrep's body step), absent: none. */
  readonly head?: Float32Array;
  /** `trainBody` with `head`: the rows the head is in place on (1) or not (0), one per row; all when absent. */
  readonly headRows?: Uint8Array;
  /** `trainHead` only: headL2 (`l2`) on the head's bias too, not its kernel alone. */
  readonly l2Bias?: boolean;
  /** How layers and the loss are computed: `FAST_OPS` unless `bench/train-throughput.ts` asks for tfjs's own (`TFJS_OPS`). */
  readonly ops?: TrainOps;
}

/** The operations a training step is made of. */
export interface TrainOps {
  readonly dense: Dense;
  readonly conv: Conv;
  /** A binary model's loss: logits `[rows]` against 0/1 labels. */
  readonly bce: (logits: tf.Tensor1D, y: tf.Tensor1D) => tf.Scalar;
  /** A K-class model's loss: logits `[rows, K]` against one-hot labels `[rows, K]`. */
  readonly softmaxCe: (logits: tf.Tensor2D, y: tf.Tensor2D) => tf.Scalar;
}

export interface TrainResult {
  readonly params: Float32Array;
  /** Mean minibatch loss over the last epoch's worth of steps. */
  readonly loss: number;
  readonly steps: number;
}

function shuffled(n: number, rng: () => number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = idx[i] ?? 0;
    idx[i] = idx[j] ?? 0;
    idx[j] = t;
  }
  return idx;
}

/** What one step minimises, and the part of it reported as the training loss. */
type StepLoss = (xb: tf.Tensor2D, yb: tf.Tensor, idx: tf.Tensor1D) => { objective: tf.Scalar; reported: tf.Scalar };

/** Labels as the loss takes them: 0/1 `[rows]` for one logit, one-hot `[rows, K]` for K. */
function labelTensor(data: Dataset, outputs: number): tf.Tensor {
  if (outputs === 1) return tf.tensor1d(Float32Array.from(data.y));
  const oneHot = new Float32Array(data.rows * outputs);
  for (let r = 0; r < data.rows; r++) oneHot[r * outputs + data.y[r]!] = 1;
  return tf.tensor2d(oneHot, [data.rows, outputs]);
}

/** The model's loss on a batch: `bce` for one logit, `softmaxCe` for K. */
function modelLoss(ops: TrainOps, logits: tf.Tensor1D | tf.Tensor2D, y: tf.Tensor): tf.Scalar {
  return logits.rank === 1 ? ops.bce(logits as tf.Tensor1D, y as tf.Tensor1D) : ops.softmaxCe(logits as tf.Tensor2D, y as tf.Tensor2D);
}

function runSteps(data: Dataset, opts: TrainOptions, outputs: number, trainable: tf.Variable[], loss: StepLoss): { loss: number; steps: number } {
  const perEpoch = Math.ceil(data.rows / opts.batchSize);
  const total = opts.steps ?? perEpoch * opts.epochs;
  const optimizer = tf.train.sgd(opts.learningRate);
  const x = tf.tensor2d(data.x, [data.rows, data.dim]);
  const y = labelTensor(data, outputs);
  const recent: tf.Scalar[] = [];
  let order = shuffled(data.rows, opts.rng);
  let at = 0;
  try {
    for (let step = 0; step < total; step++) {
      if (at >= data.rows) {
        order = shuffled(data.rows, opts.rng);
        at = 0;
      }
      const idx = tf.tensor1d(order.subarray(at, Math.min(data.rows, at + opts.batchSize)), "int32");
      at += opts.batchSize;
      let reported: tf.Scalar | null = null;
      optimizer.minimize(() => {
        const l = loss(tf.gather(x, idx) as tf.Tensor2D, tf.gather(y, idx), idx);
        reported = tf.keep(tf.clone(l.reported));
        return l.objective;
      }, false, trainable);
      idx.dispose();
      if (reported) recent.push(reported);
      if (recent.length > perEpoch) recent.shift()?.dispose();
    }
    if (recent.length === 0) return { loss: 0, steps: total };
    const mean = tf.tidy(() => tf.mean(tf.stack(recent)));
    const value = (mean.dataSync() as Float32Array)[0] ?? 0;
    mean.dispose();
    return { loss: value, steps: total };
  } finally {
    for (const l of recent) l.dispose();
    x.dispose();
    y.dispose();
    optimizer.dispose();
  }
}

/**
 * Mean binary cross-entropy of the logits, `mean(max(z, 0) − z·y + log(1 + e^−|z|))` as tfjs's
 * `sigmoidCrossEntropy` computes it, with its gradient written out, `(σ(z) − y) / n`: a handful of
 * operations per step where tfjs's autograd takes about fifteen.
 */
export const bce = tf.customGrad((...args: (tf.Tensor | ((ts: tf.Tensor[]) => void))[]) => {
  const [z, y] = args as [tf.Tensor1D, tf.Tensor1D];
  const save = args[2] as (ts: tf.Tensor[]) => void;
  save([z, y]);
  const value = tf.mean(tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z))))));
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [zs, ys] = saved as [tf.Tensor1D, tf.Tensor1D];
      return [tf.mul(dy, tf.div(tf.sub(tf.sigmoid(zs), ys), zs.size)), tf.zerosLike(ys)];
    },
  };
}) as unknown as (logits: tf.Tensor1D, y: tf.Tensor1D) => tf.Scalar;

/**
 * Mean softmax cross-entropy of logits `[rows, K]` against one-hot labels, `mean(logΣe^z − z·y)`
 * (the log-sum-exp shifted by each row's largest logit), with its gradient written out,
 * `(softmax(z) − y) / rows`.
 */
export const softmaxCe = tf.customGrad((...args: (tf.Tensor | ((ts: tf.Tensor[]) => void))[]) => {
  const [z, y] = args as [tf.Tensor2D, tf.Tensor2D];
  const save = args[2] as (ts: tf.Tensor[]) => void;
  save([z, y]);
  const value = tf.mean(tf.sub(tf.logSumExp(z, 1), tf.sum(tf.mul(z, y), 1)));
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [zs, ys] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.mul(dy, tf.div(tf.sub(tf.softmax(zs), ys), zs.shape[0])), tf.zerosLike(ys)];
    },
  };
}) as unknown as (logits: tf.Tensor2D, y: tf.Tensor2D) => tf.Scalar;

/** Training's own operations: `dense` layers, `bce` and `softmaxCe`, gradients written out. */
export const FAST_OPS: TrainOps = { dense, conv, bce, softmaxCe };
/** tfjs's layers and losses under its autograd: the baseline `bench/train-throughput.ts` measures against. */
export const TFJS_OPS: TrainOps = {
  dense: tfjsDense,
  conv: tfjsConv,
  bce: (logits, y) => tf.losses.sigmoidCrossEntropy(y, logits) as tf.Scalar,
  softmaxCe: (logits, y) => tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar,
};

/** Trains the shared body (no personal head involved) and returns the new body. */
export function trainBody(layout: Layout, body: Float32Array, data: Dataset, opts: TrainOptions): TrainResult {
  if (opts.headRows && opts.headRows.length !== data.rows) throw new Error(`headRows marks ${opts.headRows.length} rows, the data has ${data.rows}`);
  const vars = createVars(layout, body, opts.head ?? null, { body: true, head: false });
  const kernels = vars.body.filter((_, i) => i % 2 === 0);
  const correction = opts.correction;
  const corr = correction ? layout.body.map((s) => tf.tensor(correction.subarray(s.offset, s.offset + s.size), s.shape)) : [];
  const mu = opts.proximal?.mu ?? 0;
  const anchor = opts.proximal && mu > 0 ? opts.proximal.anchor : null;
  const anchors = anchor ? layout.body.map((s) => tf.tensor(anchor.subarray(s.offset, s.offset + s.size), s.shape)) : [];
  const headRows = opts.head && opts.headRows ? tf.tensor1d(Float32Array.from(opts.headRows)) : null;
  try {
    if (data.rows === 0 || (opts.steps ?? opts.epochs) === 0) return { params: Float32Array.from(body), loss: 0, steps: 0 };
    const ops = opts.ops ?? FAST_OPS;
    const trainable = opts.trainable ? vars.body.filter((_, i) => opts.trainable!(i)) : vars.body;
    const r = runSteps(data, opts, outputsOf(layout), trainable, (xb, yb, idx) => {
      const penalty = kernels.reduce<tf.Scalar>((s, k) => tf.add(s, tf.sum(tf.square(k))), tf.scalar(0));
      const logits = forward(xb, vars, ops, headRows ? (tf.gather(headRows, idx) as tf.Tensor1D) : undefined);
      const reported: tf.Scalar = tf.add(modelLoss(ops, logits, yb), tf.mul(opts.l2 / 2, penalty));
      const corrected = corr.reduce<tf.Scalar>((l, c, i) => tf.add(l, tf.sum(tf.mul(vars.body[i] as tf.Variable, c))) as tf.Scalar, reported);
      const objective = anchors.reduce<tf.Scalar>(
        (l, a, i) => tf.add(l, tf.mul(mu / 2, tf.sum(tf.square(tf.sub(vars.body[i] as tf.Variable, a))))) as tf.Scalar,
        corrected,
      );
      return { objective, reported };
    });
    return { params: readVars(vars.body, layout.bodySize), ...r };
  } finally {
    disposeVars(vars);
    for (const c of corr) c.dispose();
    for (const a of anchors) a.dispose();
    headRows?.dispose();
  }
}

/** Fits the personal head on top of a frozen body, starting from `head` (zeros: the global model). */
export function trainHead(layout: Layout, body: Float32Array, head: Float32Array, data: Dataset, opts: TrainOptions): TrainResult {
  const vars = createVars(layout, body, head, { body: false, head: true });
  try {
    if (data.rows === 0 || (opts.steps ?? opts.epochs) === 0) return { params: Float32Array.from(head), loss: 0, steps: 0 };
    const ops = opts.ops ?? FAST_OPS;
    const r = runSteps(data, opts, outputsOf(layout), vars.head, (xb, yb) => {
      const penalised = opts.l2Bias ? vars.head : vars.head.slice(0, 1);
      const penalty = penalised.reduce<tf.Scalar>((s, v) => tf.add(s, tf.sum(tf.square(v))), tf.scalar(0));
      const objective: tf.Scalar = tf.add(modelLoss(ops, forward(xb, vars, ops), yb), tf.mul(opts.l2 / 2, penalty));
      return { objective, reported: objective };
    });
    return { params: readVars(vars.head, layout.headSize), ...r };
  } finally {
    disposeVars(vars);
  }
}
