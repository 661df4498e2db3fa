/**
 * @module
 * The one conversion boundary between flat parameter vectors and tfjs: a model is a list of dense
 * layers read from the layout, with the personal head added to the output layer as a residual.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Layout, Segment } from "../../core/model/layout.ts";

export interface ModelVars {
  readonly body: tf.Variable[];
  readonly head: tf.Variable[];
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

/** Logits `[rows]`: ReLU hidden layers, then the output layer plus the personal head when present. */
export function forward(x: tf.Tensor2D, vars: ModelVars): tf.Tensor1D {
  const body = vars.body;
  let h: tf.Tensor2D = x;
  const hiddenLayers = (body.length - 2) / 2;
  for (let i = 0; i < hiddenLayers; i++) {
    h = tf.relu(tf.add(tf.matMul(h, body[2 * i] as tf.Tensor2D), body[2 * i + 1] as tf.Tensor1D)) as tf.Tensor2D;
  }
  let kernel = body[body.length - 2] as tf.Tensor2D;
  let bias = body[body.length - 1] as tf.Tensor1D;
  const [hk, hb] = vars.head;
  if (hk && hb) {
    kernel = tf.add(kernel, hk);
    bias = tf.add(bias, hb);
  }
  return tf.reshape(tf.add(tf.matMul(h, kernel), bias), [-1]);
}

/** Probabilities for every row, in batches so that large datasets do not allocate at once. */
export function predict(x: Float32Array, rows: number, dim: number, vars: ModelVars, batch = 4096): Float32Array {
  const out = new Float32Array(rows);
  for (let start = 0; start < rows; start += batch) {
    const n = Math.min(batch, rows - start);
    const p = tf.tidy(() => tf.sigmoid(forward(tf.tensor2d(x.subarray(start * dim, (start + n) * dim), [n, dim]), vars)));
    out.set(p.dataSync() as Float32Array, start);
    p.dispose();
  }
  return out;
}
