import * as tf from "@tensorflow/tfjs-core";
// Gradients for the tf.variableGrads reference (tfjs-core registers forward kernels only).
import "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../core/errors.ts";
import { seededRandom, standardNormal } from "../../core/random.ts";
import { modelLayout, type Layout } from "../../core/model/layout.ts";
import type { ModelSpec } from "../../core/model/model-spec.ts";
import type { Dataset } from "../../core/preprocess/transform.ts";
import { logisticRows, separableRows } from "../../test/fixtures/logreg-reference.ts";
import { selectBackend } from "../model/backend.ts";
import { clippedGradientSum, dpSgd, poissonSample, type DpSgdOptions } from "./dp-sgd.ts";
import { createVars, disposeVars, forward } from "../model/model.ts";
import { secureNormal } from "./secure-noise.ts";
import { trainBody } from "../training/train.ts";

const close = (values: ArrayLike<number>, digits: number) => Array.from(values, (v) => expect.closeTo(v, digits));
const uniform = (n: number, seed: number, scale = 1) => {
  const rng = seededRandom(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * rng() - 1));
};
const norm = (g: ArrayLike<number>) => Math.hypot(...Array.from(g));

/** Row `i`'s gradient of its own cross-entropy through the shipped `forward`, by autodiff. */
function exampleGradient(layout: Layout, body: Float32Array, data: Dataset, i: number): Float64Array {
  const vars = createVars(layout, body, null, { body: true, head: false });
  try {
    const { grads } = tf.variableGrads(() => {
      const x = tf.tensor2d(data.x.subarray(i * data.dim, (i + 1) * data.dim), [1, data.dim]);
      return tf.losses.sigmoidCrossEntropy(tf.tensor1d([data.y[i] ?? 0]), forward(x, vars));
    }, vars.body);
    const out = new Float64Array(layout.bodySize);
    layout.body.forEach((s, k) => out.set((grads[vars.body[k]?.name ?? ""] as tf.Tensor).dataSync(), s.offset));
    for (const g of Object.values(grads)) g.dispose();
    return out;
  } finally {
    disposeVars(vars);
  }
}

const clipTo = (g: Float64Array, c: number) => g.map((v) => v * Math.min(1, c / norm(g)));

function rowsOf(data: Dataset, picked: ArrayLike<number>) {
  const x = new Float32Array(picked.length * data.dim);
  Array.from(picked).forEach((r, i) => x.set(data.x.subarray(r * data.dim, (r + 1) * data.dim), i * data.dim));
  return { x, y: Array.from(picked, (r) => data.y[r] ?? 0), rows: picked.length };
}

const MODELS: [string, ModelSpec][] = [
  ["logreg", { kind: "logreg" }],
  ["mlp:4,3", { kind: "mlp", hidden: [4, 3] }],
];

const noiseless = (sampleRate: number, seed = 1): DpSgdOptions => ({ clip: 1e9, noiseMultiplier: 0, sampleRate, noise: () => 0, uniform: seededRandom(seed) });

describe("clippedGradientSum", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });

  it.each(MODELS)("clips every example's gradient to norm C and sums them (%s)", (_, spec) => {
    // Prepare: C is the median per-example norm, so some examples are clipped and some are not.
    const layout = modelLayout(spec, 3);
    const body = uniform(layout.bodySize, 11, 0.8);
    const data = logisticRows(8, [1, -1, 0.5], 0, 12);
    const grads = Array.from({ length: 8 }, (_, i) => exampleGradient(layout, body, data, i));
    const norms = grads.map(norm).sort((a, b) => a - b);
    const clip = ((norms[3] ?? 0) + (norms[4] ?? 0)) / 2;
    const all = Array.from({ length: 8 }, (_, i) => i);

    // Execute
    const single = all.map((i) => {
      const out = new Float32Array(layout.bodySize);
      clippedGradientSum(layout, body, rowsOf(data, [i]), clip, out);
      return out;
    });
    const sum = new Float32Array(layout.bodySize);
    clippedGradientSum(layout, body, rowsOf(data, all), clip, sum);

    // Assert
    const clipped = grads.map((g) => clipTo(g, clip));
    for (const [i, g] of single.entries()) {
      expect(norm(g)).toBeLessThanOrEqual(clip * (1 + 1e-6));
      expect(Array.from(g)).toEqual(close(clipped[i] ?? [], 5));
    }
    expect(norms[0]).toBeLessThan(clip);
    expect(norms[7]).toBeGreaterThan(clip);
    expect(Array.from(sum)).toEqual(close(clipped.reduce((s, g) => s.map((v, j) => v + (g[j] ?? 0))), 5));
  });

  it.each(MODELS)("clips a 3-class model's per-example softmax gradients to norm C and sums them (%s)", (_, spec) => {
    // Prepare: three classes, the label of each row drawn; C the median per-example norm.
    const layout = modelLayout(spec, 3, 3);
    const body = uniform(layout.bodySize, 21, 0.8);
    const rng = seededRandom(22);
    const data: Dataset = { x: uniform(8 * 3, 23), y: Uint8Array.from({ length: 8 }, () => Math.floor(rng() * 3)), rows: 8, dim: 3 };
    const grads = Array.from({ length: 8 }, (_, i) => {
      const vars = createVars(layout, body, null, { body: true, head: false });
      try {
        const { grads: g } = tf.variableGrads(() => {
          const x = tf.tensor2d(data.x.subarray(i * 3, (i + 1) * 3), [1, 3]);
          return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([data.y[i]!], "int32"), 3), forward(x, vars) as tf.Tensor2D);
        }, vars.body);
        const out = new Float64Array(layout.bodySize);
        layout.body.forEach((s, k) => out.set((g[vars.body[k]?.name ?? ""] as tf.Tensor).dataSync(), s.offset));
        return out;
      } finally {
        disposeVars(vars);
      }
    });
    const norms = grads.map(norm).sort((a, b) => a - b);
    const clip = ((norms[3] ?? 0) + (norms[4] ?? 0)) / 2;
    const all = Array.from({ length: 8 }, (_, i) => i);

    // Execute
    const sum = new Float32Array(layout.bodySize);
    const loss = clippedGradientSum(layout, body, rowsOf(data, all), clip, sum);

    // Assert
    const clipped = grads.map((g) => clipTo(g, clip));
    expect(norms[0]).toBeLessThan(clip);
    expect(norms[7]).toBeGreaterThan(clip);
    expect(Array.from(sum)).toEqual(close(clipped.reduce((s, g) => s.map((v, j) => v + (g[j] ?? 0))), 5));
    expect(loss).toBeGreaterThan(0);
  });

  it("returns the batch's summed cross-entropy", () => {
    // Prepare: a zero body predicts 0.5 for every row.
    const layout = modelLayout({ kind: "mlp", hidden: [2] }, 2);
    const data = separableRows(5, 1);

    // Execute
    const loss = clippedGradientSum(layout, new Float32Array(layout.bodySize), rowsOf(data, [0, 1, 2, 3, 4]), 1, new Float32Array(layout.bodySize));

    // Assert
    expect(loss).toBeCloseTo(5 * Math.LN2, 5);
  });
});

describe("dpSgd", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });

  it.each(MODELS)("without noise, one step moves the body by lr · (sum of clipped gradients of the sampled rows) / (q·n) (%s)", (_, spec) => {
    // Prepare
    const layout = modelLayout(spec, 2);
    const data = separableRows(40, 3);
    const body = uniform(layout.bodySize, 5, 0.8);
    const clip = 0.3;
    const q = 0.25;
    const lr = 0.5;
    const picked = new Int32Array(40);
    const m = poissonSample(40, q, seededRandom(9), picked);
    const reference = Array.from(picked.subarray(0, m), (r) => clipTo(exampleGradient(layout, body, data, r), clip));

    // Execute
    const result = dpSgd(layout, body, data, { epochs: 1, steps: 1, batchSize: 10, learningRate: lr, l2: 0, rng: () => 0, dp: { ...noiseless(q, 9), clip } });

    // Assert
    const sum = reference.reduce((s, g) => s.map((v, j) => v + (g[j] ?? 0)), new Float64Array(layout.bodySize));
    expect(m).toBeGreaterThan(3);
    expect(Array.from(result.params)).toEqual(close(body.map((w, j) => w - (lr * (sum[j] ?? 0)) / (q * 40)), 5));
    expect(result.steps).toBe(1);
  });

  it("with σ = 0, a huge C and q = 1 is full-batch gradient descent, with L2, correction and proximal terms as in trainBody", () => {
    // Prepare
    const layout = modelLayout({ kind: "mlp", hidden: [5] }, 2);
    const data = separableRows(30, 8);
    const body = uniform(layout.bodySize, 2, 0.7);
    const correction = uniform(layout.bodySize, 3, 0.1);
    const proximal = { mu: 0.3, anchor: uniform(layout.bodySize, 4) };
    const opts = { epochs: 1, steps: 6, batchSize: 30, learningRate: 0.4, l2: 0.05, correction, proximal };

    // Execute
    const plain = trainBody(layout, body, data, { ...opts, rng: seededRandom(1) });
    const dp = dpSgd(layout, body, data, { ...opts, rng: seededRandom(1), dp: noiseless(1) });

    // Assert
    expect(Array.from(dp.params)).toEqual(close(plain.params, 5));
    expect(dp.loss).toBeCloseTo(plain.loss, 5);
    expect(dp.steps).toBe(6);
  });

  it("adds N(0, σ²C²) to the clipped sum before dividing by q·n: the draws move the body by exactly −lr·σ·C·z/(q·n)", () => {
    // Prepare: the same sampling stream with and without noise, so the data gradient cancels.
    const layout = modelLayout({ kind: "mlp", hidden: [4] }, 2);
    const data = separableRows(50, 2);
    const body = uniform(layout.bodySize, 6);
    const opts = { epochs: 1, steps: 1, batchSize: 10, learningRate: 0.1, l2: 0.01, rng: () => 0 };
    const dp = { clip: 0.5, noiseMultiplier: 1.3, sampleRate: 0.2 };
    const draws = Array.from({ length: layout.bodySize }, standardNormal.bind(null, seededRandom(3)));
    let at = 0;

    // Execute
    const quiet = dpSgd(layout, body, data, { ...opts, dp: { ...dp, noiseMultiplier: 0, noise: () => 0, uniform: seededRandom(4) } });
    const noisy = dpSgd(layout, body, data, { ...opts, dp: { ...dp, noise: () => draws[at++] ?? 0, uniform: seededRandom(4) } });

    // Assert
    const scale = (0.1 * 1.3 * 0.5) / (0.2 * 50);
    expect(Array.from(noisy.params.map((v, j) => v - (quiet.params[j] ?? 0)))).toEqual(close(draws.map((z) => -scale * z), 6));
    expect(at).toBe(layout.bodySize);
  });

  it("draws noise of standard deviation σ·C/(q·n) per coordinate from secureNormal", () => {
    // Prepare: 8,681 parameters; the sample standard deviation's relative error is about 1/√(2·8681) = 0.76%.
    const layout = modelLayout({ kind: "mlp", hidden: [200, 40] }, 2);
    const data = separableRows(20, 2);
    const body = uniform(layout.bodySize, 6, 0.3);
    const opts = { epochs: 1, steps: 1, batchSize: 10, learningRate: 1, l2: 0, rng: () => 0 };
    const dp = { clip: 2, noiseMultiplier: 0.8, sampleRate: 0.5 };

    // Execute
    const quiet = dpSgd(layout, body, data, { ...opts, dp: { ...dp, noiseMultiplier: 0, noise: () => 0, uniform: seededRandom(4) } });
    const noisy = dpSgd(layout, body, data, { ...opts, dp: { ...dp, noise: secureNormal, uniform: seededRandom(4) } });

    // Assert
    const added = Array.from(noisy.params, (v, j) => v - (quiet.params[j] ?? 0));
    const mean = added.reduce((s, v) => s + v, 0) / added.length;
    const sd = Math.sqrt(added.reduce((s, v) => s + (v - mean) ** 2, 0) / (added.length - 1));
    const expected = (0.8 * 2) / (0.5 * 20);
    expect(layout.bodySize).toBe(8681);
    expect(Math.abs(sd / expected - 1)).toBeLessThan(0.04);
    expect(Math.abs(mean)).toBeLessThan((5 * expected) / Math.sqrt(added.length));
  });

  it("counts every step it runs, empty batches included, and runs as many as trainBody would", () => {
    // Prepare: q = 0.01 over 30 rows leaves most batches empty; each step draws one normal per parameter.
    const layout = modelLayout({ kind: "logreg" }, 2);
    const data = separableRows(30, 5);
    const body = new Float32Array(layout.bodySize);
    let draws = 0;
    const dp = { clip: 1, noiseMultiplier: 1, sampleRate: 0.01, noise: () => (draws++, 0), uniform: seededRandom(2) };
    const opts = { epochs: 3, batchSize: 8, learningRate: 0.1, l2: 0, rng: () => 0 };

    // Execute
    const byEpochs = dpSgd(layout, body, data, { ...opts, dp });
    const drawsByEpochs = draws;
    const bySteps = dpSgd(layout, body, data, { ...opts, steps: 17, dp });
    const none = dpSgd(layout, body, { ...data, rows: 0, x: new Float32Array(0), y: new Uint8Array(0) }, { ...opts, dp });

    // Assert
    expect(byEpochs.steps).toBe(3 * Math.ceil(30 / 8));
    expect(drawsByEpochs).toBe(12 * layout.bodySize);
    expect(bySteps.steps).toBe(17);
    expect(draws).toBe(29 * layout.bodySize);
    expect(none).toEqual({ params: body, loss: 0, steps: 0 });
  });

  it("rejects hyperparameters out of range", () => {
    // Prepare
    const layout = modelLayout({ kind: "logreg" }, 2);
    const data = separableRows(4, 1);
    const opts = { epochs: 1, batchSize: 2, learningRate: 0.1, l2: 0, rng: () => 0 };
    const run = (dp: Partial<DpSgdOptions>) => () => dpSgd(layout, new Float32Array(3), data, { ...opts, dp: { ...noiseless(0.5), ...dp } });

    // Execute / Assert
    expect(run({ clip: 0 })).toThrow(new ConfigError("dp.clip must be a positive finite number, got 0"));
    expect(run({ noiseMultiplier: -1 })).toThrow(new ConfigError("dp.noiseMultiplier must be a non-negative finite number, got -1"));
    expect(run({ sampleRate: 1.5 })).toThrow(new ConfigError("dp.sampleRate must be in (0, 1], got 1.5"));
    expect(run({ sampleRate: 0 })).toThrow(ConfigError);
  });
});

describe("poissonSample", () => {
  it("puts each row in a batch independently with probability q: q·n rows on average", () => {
    // Prepare: 4,000 batches of 200 rows at q = 0.1; the mean batch size has a standard error of 0.067.
    const rows = 200;
    const q = 0.1;
    const uniformDraw = seededRandom(21);
    const out = new Int32Array(rows);
    const hits = new Float64Array(rows);
    let total = 0;

    // Execute
    for (let b = 0; b < 4000; b++) {
      const m = poissonSample(rows, q, uniformDraw, out);
      total += m;
      for (const r of out.subarray(0, m)) hits[r] = (hits[r] ?? 0) + 1;
    }

    // Assert: each row's rate has a standard error of 0.0047.
    expect(Math.abs(total / 4000 - q * rows)).toBeLessThan(0.3);
    for (const h of hits) expect(Math.abs(h / 4000 - q)).toBeLessThan(0.025);
  });

  it("returns the rows in increasing order without repeats, and every row at q = 1", () => {
    // Prepare
    const out = new Int32Array(50);

    // Execute
    const m = poissonSample(50, 0.3, seededRandom(2), out);
    const picked = Array.from(out.subarray(0, m));
    const all = poissonSample(50, 1, () => 0.999, out);

    // Assert
    expect(picked.every((r, i) => i === 0 || r > (picked[i - 1] ?? -1))).toBe(true);
    expect(picked.every((r) => r >= 0 && r < 50)).toBe(true);
    expect(all).toBe(50);
    expect(Array.from(out)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
