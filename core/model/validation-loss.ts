import type { Dataset } from "../preprocess/transform.ts";
import type { Layout } from "./layout.ts";

/**
 * Mean cross-entropy (binary, or softmax for a K-class model) of a global body (no personal head) on `data`, on typed arrays: the
 * coordinator scores contributions with it and must not need TensorFlow.js. The same network as
 * the site runner's: dense layers with ReLU, then the output layer.
 *
 * @example
 * validationLoss(layout, model, applyPreprocessing(table, prep)) // 0.41
 */
export function validationLoss(layout: Layout, body: Float32Array, data: Dataset): number {
  if (data.rows === 0) return Number.NaN;
  const layers: { kernel: Float32Array; bias: Float32Array; rows: number; cols: number }[] = [];
  for (let i = 0; i + 1 < layout.body.length; i += 2) {
    const k = layout.body[i]!;
    const b = layout.body[i + 1]!;
    layers.push({ kernel: body.subarray(k.offset, k.offset + k.size), bias: body.subarray(b.offset, b.offset + b.size), rows: k.shape[0]!, cols: k.shape[1]! });
  }
  const width = Math.max(data.dim, ...layers.map((l) => l.cols));
  let input = new Float64Array(width);
  let output = new Float64Array(width);
  let total = 0;
  for (let r = 0; r < data.rows; r++) {
    for (let j = 0; j < data.dim; j++) input[j] = data.x[r * data.dim + j]!;
    for (const [n, layer] of layers.entries()) {
      const last = n === layers.length - 1;
      for (let c = 0; c < layer.cols; c++) {
        let s = layer.bias[c]!;
        for (let j = 0; j < layer.rows; j++) s += input[j]! * layer.kernel[j * layer.cols + c]!;
        output[c] = last || s > 0 ? s : 0;
      }
      [input, output] = [output, input];
    }
    const outputs = layers.at(-1)!.cols;
    if (outputs > 1) {
      // log Σ e^z − z_y, shifted by the largest logit.
      let top = -Infinity;
      for (let c = 0; c < outputs; c++) top = Math.max(top, input[c]!);
      let sum = 0;
      for (let c = 0; c < outputs; c++) sum += Math.exp(input[c]! - top);
      total += top + Math.log(sum) - input[data.y[r]!]!;
      continue;
    }
    const z = input[0]!;
    // log(1 + e^−|z|) + max(z, 0) − y·z: the stable form of −y·log σ(z) − (1 − y)·log(1 − σ(z)).
    total += Math.log1p(Math.exp(-Math.abs(z))) + Math.max(z, 0) - data.y[r]! * z;
  }
  return total / data.rows;
}
