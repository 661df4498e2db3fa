/**
 * @module
 * The one conversion boundary between flat parameter vectors and tfjs: a model is a list of layers
 * read from the layout (convolution blocks, then dense layers), with the personal head added to
 * the output layer as a residual.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Layout, Segment } from "../../core/model/layout.ts";

export interface ModelVars {
  readonly body: tf.Variable[];
  readonly head: tf.Variable[];
  /** A convolutional body's input image (`Layout.image`): rows are reshaped to it. */
  readonly image?: Layout["image"];
}

function toVars(segments: Segment[], flat: Float32Array, trainable: boolean): tf.Variable[] {
  return segments.map((s) => {
    const init = tf.tensor(flat.subarray(s.offset, s.offset + s.size), s.shape);
    const v = tf.variable(init, trainable);
    init.dispose();
    return v;
  });
}

export function createVars(layout: Layout, body: Float32Array, head: Float32Array | null, train: { body: boolean; head: boolean }): ModelVars {
  return {
    body: toVars(layout.body, body, train.body),
    head: head ? toVars(layout.head, head, train.head) : [],
    ...(layout.image && { image: layout.image }),
  };
}

export function readVars(vars: tf.Variable[], size: number): Float32Array {
  const out = new Float32Array(size);
  let at = 0;
  for (const v of vars) {
    const data = v.dataSync() as Float32Array;
    out.set(data, at);
    at += data.length;
  }
  return out;
}

export function disposeVars(vars: ModelVars): void {
  for (const v of [...vars.body, ...vars.head]) v.dispose();
}

/**
 * One dense layer, `x·kernel + bias`, optionally through a ReLU. `input` says whether `x` needs a
 * gradient (false for the model's first layer, whose input is data).
 */
export type Dense = (x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D, relu: boolean, input?: boolean) => tf.Tensor2D;

/**
 * A dense layer as tfjs writes it: its autograd takes the products' gradients with transposed
 * operands (`matMul(dy, W, false, true)`, `matMul(x, dy, true, false)`), which tfjs-backend-wasm
 * 4.22 computes 5–20× slower than the same product of operands transposed first. Kept as the
 * baseline `bench/train-throughput.ts` measures `dense` against.
 */
export const tfjsDense: Dense = (x, kernel, bias, relu) => {
  const z = tf.add(tf.matMul(x, kernel), bias) as tf.Tensor2D;
  return relu ? tf.relu(z) : z;
};

/**
 * The dense layer training uses: the forward product fused with its bias and ReLU, and a gradient
 * of its own whose products take operands transposed first (`dy·Wᵀ`, `xᵀ·dy`), never the backend's
 * transposed products. The same arithmetic as `tfjsDense`, checked against it and against numerical
 * gradients in `model.test.ts`.
 */
export const dense: Dense = (x, kernel, bias, relu, input = true) => DENSE[relu ? 1 : 0]![input ? 1 : 0]!(x, kernel, bias);

function denseGrad(relu: boolean, input: boolean) {
  return tf.customGrad((...args: (tf.Tensor | ((ts: tf.Tensor[]) => void))[]) => {
    const [x, kernel, bias] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const save = args[3] as (ts: tf.Tensor[]) => void;
    const value = tf.fused.matMul({ a: x, b: kernel, bias, activation: relu ? "relu" : "linear" });
    save([x, kernel, value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ks, ys] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const dz = (relu ? tf.mul(dy, tf.step(ys)) : dy) as tf.Tensor2D;
        // The data's gradient is never read: zeros instead of a product as large as the layer's.
        return [input ? tf.matMul(dz, tf.transpose(ks)) : tf.zerosLike(xs), tf.matMul(tf.transpose(xs), dz), tf.sum(dz, 0)];
      },
    };
  }) as unknown as (x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D) => tf.Tensor2D;
}
/** By [relu][input]. */
const DENSE = [[denseGrad(false, false), denseGrad(false, true)], [denseGrad(true, false), denseGrad(true, true)]] as const;

/**
 * A convolution block's convolution: 3×3, stride 1, same padding, with its bias and ReLU (NHWC
 * input, `[3, 3, in, out]` kernel). `input` says whether `x` needs a gradient, as for `Dense`.
 */
export type Conv = (x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D, input?: boolean) => tf.Tensor4D;

/**
 * The convolution as tfjs writes it, under its autograd: its kernel's gradient needs the
 * Conv2DBackpropFilter kernel, which tfjs-backend-wasm 4.22 lacks (training fails there). Kept as
 * the baseline `conv` is checked and measured against on the backends that have it.
 */
export const tfjsConv: Conv = (x, kernel, bias) => tf.relu(tf.add(tf.conv2d(x, kernel, 1, "same"), bias)) as tf.Tensor4D;

function convGrad(input: boolean) {
  return tf.customGrad((...args: (tf.Tensor | ((ts: tf.Tensor[]) => void))[]) => {
    const [x, kernel, bias] = args as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D];
    const save = args[3] as (ts: tf.Tensor[]) => void;
    const value = tf.fused.conv2d({ x, filter: kernel, strides: 1, pad: "same", bias, activation: "relu" });
    save([x, kernel, value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ks, ys] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        const dz = tf.mul(dy, tf.step(ys)) as tf.Tensor4D;
        // The kernel's gradient Σ x_pad[b, i+p, j+q, c]·dz[b, i, j, f] is itself a valid convolution:
        // of the padded input with channels and batch swapped, by dz as the filter (batch as its input channels).
        const padded = tf.pad(xs, [[0, 0], [1, 1], [1, 1], [0, 0]]);
        const dk = tf.transpose(tf.conv2d(tf.transpose(padded, [3, 1, 2, 0]) as tf.Tensor4D, tf.transpose(dz, [1, 2, 0, 3]) as tf.Tensor4D, 1, "valid"), [1, 2, 0, 3]);
        // The input's through Conv2DBackpropInput, which every backend has; zeros for data.
        const dx = input ? tf.conv2dTranspose(dz, ks, xs.shape, 1, "same") : tf.zerosLike(xs);
        return [dx, dk, tf.sum(dz, [0, 1, 2])];
      },
    };
  }) as unknown as (x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D) => tf.Tensor4D;
}
const CONV = [convGrad(false), convGrad(true)] as const;

/**
 * The convolution training uses: fused forward, and a gradient of its own whose every product is
 * an operation tfjs-backend-wasm has (a forward convolution for the kernel, Conv2DBackpropInput for
 * the input). Checked against `tfjsConv` and numerical gradients in `model.test.ts`.
 */
export const conv: Conv = (x, kernel, bias, input = true) => CONV[input ? 1 : 0]!(x, kernel, bias);

/** How a forward pass computes its layers (`dense` and `conv` unless a benchmark asks for tfjs's own). */
export interface Layers {
  readonly dense: Dense;
  readonly conv: Conv;
}
const OWN: Layers = { dense, conv };

/**
 * Logits: `[rows]` for a binary model, `[rows, K]` for a K-class one (its output layer's width).
 * A convolutional body first reshapes each row to its image and runs its convolution blocks (each
 * convolution with ReLU, then 2×2 max pooling), then flattens; then ReLU dense layers, then the
 * output layer plus the personal head when present (on the rows `headRows` marks, when given). `layers` says how layers are computed. The
 * input `x` is data: with `dense` and `conv`, its gradient is zeros, never computed (a use that
 * needs gradients with respect to the input, such as saliency, must pass tfjs's own).
 */
export function forward(x: tf.Tensor2D, vars: ModelVars, layers: Layers | Dense = OWN, headRows?: tf.Tensor1D): tf.Tensor1D | tf.Tensor2D {
  const ops: Layers = typeof layers === "function" ? { dense: layers, conv: OWN.conv } : layers;
  const body = vars.body;
  const img = vars.image;
  let h: tf.Tensor = img ? tf.reshape(x, [-1, img.height, img.width, img.channels]) : x;
  const pairs = body.length / 2;
  for (let i = 0; i + 1 < pairs; i++) {
    const kernel = body[2 * i] as tf.Tensor;
    if (kernel.rank === 4) {
      h = tf.maxPool(ops.conv(h as tf.Tensor4D, kernel as tf.Tensor4D, body[2 * i + 1] as tf.Tensor1D, i > 0), 2, 2, "valid");
      continue;
    }
    if (h.rank === 4) h = tf.reshape(h, [h.shape[0]!, -1]);
    h = ops.dense(h as tf.Tensor2D, kernel as tf.Tensor2D, body[2 * i + 1] as tf.Tensor1D, true, i > 0);
  }
  if (h.rank === 4) h = tf.reshape(h, [h.shape[0]!, -1]);
  let kernel = body[body.length - 2] as tf.Tensor2D;
  let bias = body[body.length - 1] as tf.Tensor1D;
  const [hk, hb] = vars.head;
  // The head on some rows only (`headRows`, 1 or 0 per row): its logits added row by row.
  if (hk && hb && headRows) {
    const own = ops.dense(h as tf.Tensor2D, kernel, bias, false, pairs > 1);
    const z = tf.add(own, tf.mul(ops.dense(h as tf.Tensor2D, hk as tf.Tensor2D, hb as tf.Tensor1D, false, pairs > 1), tf.reshape(headRows, [-1, 1]))) as tf.Tensor2D;
    return kernel.shape[1] === 1 ? (tf.reshape(z, [-1]) as tf.Tensor1D) : z;
  }
  if (hk && hb) {
    kernel = tf.add(kernel, hk);
    bias = tf.add(bias, hb);
  }
  const z = ops.dense(h as tf.Tensor2D, kernel, bias, false, pairs > 1);
  return kernel.shape[1] === 1 ? (tf.reshape(z, [-1]) as tf.Tensor1D) : z;
}

/**
 * Probabilities for every row, in batches so that large datasets do not allocate at once: one per
 * row (sigmoid) for a binary model, K per row (softmax, row-major `rows × K`) for a K-class one.
 */
export function predict(x: Float32Array, rows: number, dim: number, vars: ModelVars, batch = 4096): Float32Array {
  const outputs = vars.body[vars.body.length - 1]?.shape[0] ?? 1;
  const out = new Float32Array(rows * outputs);
  for (let start = 0; start < rows; start += batch) {
    const n = Math.min(batch, rows - start);
    const p = tf.tidy(() => {
      const z = forward(tf.tensor2d(x.subarray(start * dim, (start + n) * dim), [n, dim]), vars);
      return outputs === 1 ? tf.sigmoid(z) : tf.softmax(z);
    });
    out.set(p.dataSync() as Float32Array, start * outputs);
    p.dispose();
  }
  return out;
}
