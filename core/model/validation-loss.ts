import type { Dataset } from "../preprocess/transform.ts";
import type { Layout } from "./layout.ts";

/**
 * Mean cross-entropy (binary, or softmax for a K-class model) of a global body (no personal head) on `data`, on typed arrays: the
 * coordinator scores contributions with it and must not need TensorFlow.js. The same network as
 * the site runner's: convolution blocks (a `cnn` body), dense layers with ReLU, then the output layer.
 *
 * @example
 * validationLoss(layout, model, applyPreprocessing(table, prep)) // 0.41
 */
export function validationLoss(layout: Layout, body: Float32Array, data: Dataset): number {
  if (data.rows === 0) return Number.NaN;
  const convs: { kernel: Float32Array; bias: Float32Array; c: number; f: number }[] = [];
  const layers: { kernel: Float32Array; bias: Float32Array; rows: number; cols: number }[] = [];
  for (let i = 0; i + 1 < layout.body.length; i += 2) {
    const k = layout.body[i]!;
    const b = layout.body[i + 1]!;
    const kernel = body.subarray(k.offset, k.offset + k.size);
    const bias = body.subarray(b.offset, b.offset + b.size);
    if (k.shape.length === 4) convs.push({ kernel, bias, c: k.shape[2]!, f: k.shape[3]! });
    else layers.push({ kernel, bias, rows: k.shape[0]!, cols: k.shape[1]! });
  }
  const width = Math.max(data.dim, ...layers.map((l) => l.cols), ...convImageSizes(layout, convs));
  let input = new Float64Array(width);
  let output = new Float64Array(width);
  let total = 0;
  for (let r = 0; r < data.rows; r++) {
    for (let j = 0; j < data.dim; j++) input[j] = data.x[r * data.dim + j]!;
    if (layout.image) {
      let [h, w] = [layout.image.height, layout.image.width];
      for (const cv of convs) {
        convBlock(input, output, h, w, cv);
        [input, output] = [output, input];
        [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
      }
    }
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

/** The sizes a convolutional body's blocks work in (each convolution's output), to size the buffers. */
function convImageSizes(layout: Layout, convs: readonly { f: number }[]): number[] {
  if (!layout.image) return [];
  let [h, w] = [layout.image.height, layout.image.width];
  return convs.map((cv) => {
    const size = h * w * cv.f;
    [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
    return size;
  });
}

/**
 * One convolution block as the runner computes it, on an `h × w × c` image (row-major, channels
 * last) in `input`: a 3×3 convolution with same padding, its bias, ReLU, then 2×2 max pooling
 * (rounding down); the pooled `⌊h/2⌋ × ⌊w/2⌋ × f` image is written to `out`.
 */
function convBlock(input: Float64Array, out: Float64Array, h: number, w: number, cv: { kernel: Float32Array; bias: Float32Array; c: number; f: number }): void {
  const { kernel, bias, c, f } = cv;
  const at = (i: number, j: number, o: number): number => {
    let s = bias[o]!;
    for (let p = 0; p < 3; p++) {
      const y = i + p - 1;
      if (y < 0 || y >= h) continue;
      for (let q = 0; q < 3; q++) {
        const x = j + q - 1;
        if (x < 0 || x >= w) continue;
        for (let k = 0; k < c; k++) s += input[(y * w + x) * c + k]! * kernel[((p * 3 + q) * c + k) * f + o]!;
      }
    }
    return s > 0 ? s : 0;
  };
  const [ph, pw] = [Math.floor(h / 2), Math.floor(w / 2)];
  for (let i = 0; i < ph; i++) {
    for (let j = 0; j < pw; j++) {
      for (let o = 0; o < f; o++) {
        out[(i * pw + j) * f + o] = Math.max(at(2 * i, 2 * j, o), at(2 * i, 2 * j + 1, o), at(2 * i + 1, 2 * j, o), at(2 * i + 1, 2 * j + 1, o));
      }
    }
  }
}
