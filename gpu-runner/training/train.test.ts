import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initBody } from "../../core/model/init-params.ts";
import { seededRandom } from "../../core/random.ts";
import { modelLayout } from "../../core/model/layout.ts";
import type { Dataset } from "../../core/preprocess/transform.ts";
import { descend, logregGradient, logregLoss, logisticRows, separableRows } from "../../test/fixtures/logreg-reference.ts";
import { selectBackend } from "../model/backend.ts";
import { scoreRows } from "../model/score-rows.ts";
import { FAST_OPS, TFJS_OPS, trainBody, trainHead } from "./train.ts";

const close = (values: ArrayLike<number>, digits: number) => Array.from(values, (v) => expect.closeTo(v, digits));
const uniform = (n: number, seed: number, scale = 1) => {
  const rng = seededRandom(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * rng() - 1));
};

/** `rows` rows of a one-hot identity, all labelled 1: kernel weight j moves only when row j is in a batch. */
function identityRows(rows: number): Dataset {
  const x = new Float32Array(rows * rows);
  for (let i = 0; i < rows; i++) x[i * rows + i] = 1;
  return { x, y: new Uint8Array(rows).fill(1), rows, dim: rows };
}

/**
 * How often each row was in a minibatch: with a small rate, every visit in a batch of 4 moves the
 * row's kernel weight by lr · (1 − σ(≈0)) / 4 = lr / 8, so the weight counts the visits.
 */
function visits(rows: number, steps: number, seed: number): number[] {
  const layout = modelLayout({ kind: "logreg" }, rows);
  const lr = 0.01;
  const result = trainBody(layout, new Float32Array(layout.bodySize), identityRows(rows), { epochs: 1, steps, batchSize: 4, learningRate: lr, l2: 0, rng: seededRandom(seed) });
  expect(result.steps).toBe(steps);
  return Array.from(result.params.subarray(0, rows), (w) => Math.round(w / (lr / 8)));
}

const accuracy = (scores: Float32Array, y: Uint8Array) => scores.reduce((n, p, i) => n + ((p > 0.5 ? 1 : 0) === y[i] ? 1 : 0), 0) / y.length;

describe("trainBody", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });

  it("lowers the loss on a linearly separable set and separates it", () => {
    // Prepare
    const layout = modelLayout({ kind: "logreg" }, 2);
    const data = separableRows(200, 3);
    const start = new Float32Array(layout.bodySize);

    // Execute
    const result = trainBody(layout, start, data, { epochs: 30, batchSize: 16, learningRate: 0.5, l2: 0, rng: seededRandom(1) });

    // Assert
    expect(logregLoss(start, data)).toBeCloseTo(Math.LN2, 6);
    expect(result.loss).toBeLessThan(0.15);
    expect(logregLoss(result.params, data)).toBeLessThan(0.15);
    expect(accuracy(scoreRows(layout, result.params, null, data), data.y)).toBeGreaterThanOrEqual(0.98);
    expect(result.steps).toBe(30 * Math.ceil(200 / 16));
  });

  it("runs exactly `steps` minibatch steps, whether that is less than an epoch or several", () => {
    // Prepare: 12 rows in batches of 4 make 3 steps an epoch; 40 rows make 10.

    // Execute
    const short = visits(40, 7, 5);
    const long = visits(12, 7, 5);

    // Assert: 7 batches of 4 rows, drawn without replacement within an epoch.
    expect(short.reduce((a, b) => a + b, 0)).toBe(28);
    expect(short.filter((v) => v === 1)).toHaveLength(28);
    expect(short.filter((v) => v === 0)).toHaveLength(12);
    expect(long.reduce((a, b) => a + b, 0)).toBe(28);
    // Two whole epochs (every row twice), then one batch of a third.
    expect(long.filter((v) => v === 3)).toHaveLength(4);
    expect(long.filter((v) => v === 2)).toHaveLength(8);
  });

  it("walks each epoch through every row once and reshuffles between epochs", () => {
    // Prepare
    const rows = 12;

    // Execute: the same seed each time, so each run extends the previous one's sequence of batches.
    const firstBatch = visits(rows, 1, 9);
    const oneEpoch = visits(rows, 3, 9);
    const oneEpochAndABatch = visits(rows, 4, 9);

    // Assert
    expect(oneEpoch).toEqual(Array(rows).fill(1));
    const inFirstBatch = firstBatch.flatMap((v, i) => (v === 1 ? [i] : []));
    const inSecondEpochsFirstBatch = oneEpochAndABatch.flatMap((v, i) => (v === 2 ? [i] : []));
    expect(inFirstBatch).toHaveLength(4);
    expect(inSecondEpochsFirstBatch).toHaveLength(4);
    expect(inSecondEpochsFirstBatch).not.toEqual(inFirstBatch);
  });

  it("adds `correction` to the gradient of every parameter of every layer", () => {
    // Prepare: one full-batch step, so both runs see the same batch at the same parameters.
    const layout = modelLayout({ kind: "mlp", hidden: [3] }, 2);
    const data = separableRows(40, 4);
    const start = initBody(layout, seededRandom(2));
    start.set(uniform(4, 8), layout.bodySize - 4); // a non-zero output layer, so the hidden layer has gradients too
    const correction = uniform(layout.bodySize, 6);
    const lr = 0.1;
    const opts = { epochs: 1, steps: 1, batchSize: 40, learningRate: lr, l2: 0.05 };

    // Execute
    const plain = trainBody(layout, start, data, { ...opts, rng: seededRandom(1) });
    const corrected = trainBody(layout, start, data, { ...opts, rng: seededRandom(1), correction });

    // Assert
    expect(Array.from(corrected.params)).toEqual(close(plain.params.map((p, i) => p - lr * (correction[i] ?? 0)), 6));
    expect(Array.from(plain.params)).not.toEqual(close(start, 3));
    // The linear term steers the step but is not part of the reported data loss.
    expect(corrected.loss).toBeCloseTo(plain.loss, 6);
  });

  it("applies the correction at every step: with no data gradient the kernel moves by K · lr · correction", () => {
    // Prepare: all-zero inputs and balanced full batches give a zero data gradient at a zero bias.
    const layout = modelLayout({ kind: "logreg" }, 3);
    const data: Dataset = { x: new Float32Array(8 * 3), y: Uint8Array.from([1, 0, 1, 0, 1, 0, 1, 0]), rows: 8, dim: 3 };
    const start = Float32Array.from([0.5, -1, 2, 0]);
    const correction = Float32Array.from([0.3, -0.2, 0.1, 0]);

    // Execute
    const result = trainBody(layout, start, data, { epochs: 1, steps: 5, batchSize: 8, learningRate: 0.2, l2: 0, rng: seededRandom(1), correction });

    // Assert
    expect(Array.from(result.params)).toEqual(close([0.5 - 5 * 0.2 * 0.3, -1 + 5 * 0.2 * 0.2, 2 - 5 * 0.2 * 0.1, 0], 6));
  });

  it("adds the proximal pull −lr · mu · (w − anchor) to one step of every parameter, on top of the correction", () => {
    // Prepare: the same seed draws the same minibatch, so the data gradient cancels in the difference.
    const layout = modelLayout({ kind: "mlp", hidden: [3] }, 2);
    const data = separableRows(40, 4);
    const start = initBody(layout, seededRandom(2));
    start.set(uniform(4, 8), layout.bodySize - 4);
    const anchor = uniform(layout.bodySize, 5);
    const correction = uniform(layout.bodySize, 6);
    const lr = 0.1;
    const mu = 2;
    const opts = { epochs: 1, steps: 1, batchSize: 16, learningRate: lr, l2: 0 };

    // Execute
    const plain = trainBody(layout, start, data, { ...opts, rng: seededRandom(1) });
    const pulled = trainBody(layout, start, data, { ...opts, rng: seededRandom(1), proximal: { mu, anchor } });
    const both = trainBody(layout, start, data, { ...opts, rng: seededRandom(1), correction, proximal: { mu, anchor } });

    // Assert
    const pull = start.map((w, i) => -lr * mu * (w - (anchor[i] ?? 0)));
    expect(Array.from(pulled.params.map((v, i) => v - (plain.params[i] ?? 0)))).toEqual(close(pull, 5));
    expect(Array.from(both.params.map((v, i) => v - (plain.params[i] ?? 0)))).toEqual(close(pull.map((p, i) => p - lr * (correction[i] ?? 0)), 5));
    // The proximal term steers the step but is not part of the reported data loss.
    expect(pulled.loss).toBeCloseTo(plain.loss, 6);
  });

  it("matches full-batch gradient descent on the proximal objective step for step", () => {
    // Prepare: the anchor is fixed for the whole call, not the current iterate.
    const layout = modelLayout({ kind: "logreg" }, 3);
    const data = logisticRows(30, [1, -2, 0.5], 0.3, 7);
    const start = uniform(layout.bodySize, 3, 0.5);
    const anchor = uniform(layout.bodySize, 4);
    const mu = 0.7;
    const gradient = (w: Float64Array) => logregGradient(w, data, 0.1).map((g, i) => g + mu * ((w[i] ?? 0) - (anchor[i] ?? 0)));

    // Execute
    const result = trainBody(layout, start, data, { epochs: 1, steps: 12, batchSize: 30, learningRate: 0.3, l2: 0.1, rng: seededRandom(1), proximal: { mu, anchor } });

    // Assert
    expect(Array.from(result.params)).toEqual(close(descend(start, gradient, 12, 0.3).params, 5));
  });

  it("keeps the body near the anchor with a large mu: the drift shrinks by about 1 / (K · lr · mu)", () => {
    // Prepare: lr · mu = 0.5 keeps the pull stable; K · lr · mu = 100.
    const layout = modelLayout({ kind: "mlp", hidden: [4] }, 2);
    const data = separableRows(64, 5);
    const start = initBody(layout, seededRandom(3));
    const opts = { epochs: 1, steps: 200, batchSize: 16, learningRate: 0.005, l2: 0 };
    const distance = (w: Float32Array) => Math.hypot(...w.map((v, i) => v - (start[i] ?? 0)));

    // Execute
    const free = trainBody(layout, start, data, { ...opts, rng: seededRandom(1) });
    const pulled = trainBody(layout, start, data, { ...opts, rng: seededRandom(1), proximal: { mu: 100, anchor: start } });

    // Assert
    expect(distance(free.params)).toBeGreaterThan(0.05);
    expect(distance(pulled.params)).toBeGreaterThan(0);
    expect(distance(pulled.params) / distance(free.params)).toBeGreaterThan(0.005);
    expect(distance(pulled.params) / distance(free.params)).toBeLessThan(0.02);
  });

  it("trains exactly as without the term when mu is 0", () => {
    // Prepare
    const layout = modelLayout({ kind: "mlp", hidden: [3] }, 2);
    const data = separableRows(50, 6);
    const start = initBody(layout, seededRandom(4));
    const opts = { epochs: 3, batchSize: 8, learningRate: 0.2, l2: 0.01 };

    // Execute
    const absent = trainBody(layout, start, data, { ...opts, rng: seededRandom(1) });
    const zero = trainBody(layout, start, data, { ...opts, rng: seededRandom(1), proximal: { mu: 0, anchor: uniform(layout.bodySize, 7) } });

    // Assert
    expect(new Uint8Array(zero.params.buffer)).toEqual(new Uint8Array(absent.params.buffer));
    expect(zero.loss).toBe(absent.loss);
    expect(zero.steps).toBe(absent.steps);
  });

  it("matches full-batch gradient descent on logistic regression step for step", () => {
    // Prepare
    const layout = modelLayout({ kind: "logreg" }, 3);
    const data = logisticRows(30, [1, -2, 0.5], 0.3, 7);
    const start = uniform(layout.bodySize, 3, 0.5);
    const expected = descend(start, (w) => logregGradient(w, data, 0.1), 12, 0.3).params;

    // Execute
    const result = trainBody(layout, start, data, { epochs: 1, steps: 12, batchSize: 30, learningRate: 0.3, l2: 0.1, rng: seededRandom(1) });

    // Assert
    expect(Array.from(result.params)).toEqual(close(expected, 5));
  });

  it("returns a copy of the body when there is nothing to train on", () => {
    // Prepare
    const layout = modelLayout({ kind: "logreg" }, 2);
    const body = Float32Array.from([1, 2, 3]);
    const empty: Dataset = { x: new Float32Array(0), y: new Uint8Array(0), rows: 0, dim: 2 };

    // Execute
    const result = trainBody(layout, body, empty, { epochs: 3, batchSize: 4, learningRate: 0.1, l2: 0, rng: seededRandom(1) });

    // Assert
    expect(result).toEqual({ params: body, loss: 0, steps: 0 });
    expect(result.params).not.toBe(body);
  });
});

describe("trainHead", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });

  it("descends on the head alone, with the body frozen under it", () => {
    // Prepare: the head is a residual on the output layer, so the model's parameters are body + head.
    const layout = modelLayout({ kind: "logreg" }, 3);
    const data = logisticRows(24, [2, 0, -1], -0.5, 11);
    const body = uniform(layout.bodySize, 4);
    const before = Float32Array.from(body);
    const head = uniform(layout.headSize, 5, 0.3);
    const l2 = 0.2;
    const headGradient = (h: Float64Array) => {
      const g = logregGradient(h.map((v, i) => v + (body[i] ?? 0)), data);
      for (let j = 0; j < data.dim; j++) g[j] = (g[j] ?? 0) + l2 * (h[j] ?? 0);
      return g;
    };

    // Execute
    const result = trainHead(layout, body, head, data, { epochs: 1, steps: 10, batchSize: 24, learningRate: 0.4, l2, rng: seededRandom(1) });

    // Assert
    expect(Array.from(result.params)).toEqual(close(descend(head, headGradient, 10, 0.4).params, 5));
    expect(body).toEqual(before);
  });

  it("puts its L2 on the head kernel only, leaving the head bias free", () => {
    // Prepare: one full-batch step with and without L2 differs by exactly −lr · l2 · kernel.
    const layout = modelLayout({ kind: "mlp", hidden: [4] }, 2);
    const data = separableRows(30, 12);
    const body = initBody(layout, seededRandom(3));
    const head = uniform(layout.headSize, 9);
    const lr = 0.2;
    const l2 = 0.5;
    const opts = { epochs: 1, steps: 1, batchSize: 30, learningRate: lr };

    // Execute
    const free = trainHead(layout, body, head, data, { ...opts, l2: 0, rng: seededRandom(1) });
    const pulled = trainHead(layout, body, head, data, { ...opts, l2, rng: seededRandom(1) });

    // Assert
    const kernel = layout.head[0]?.size ?? 0;
    expect(kernel).toBe(4);
    const diff = pulled.params.map((v, i) => v - (free.params[i] ?? 0));
    expect(Array.from(diff)).toEqual(close([...Array.from(head.subarray(0, kernel), (h) => -lr * l2 * h), 0], 6));
  });
});

describe("training releases its tensors", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });

  it("leaves as many tensors as it found after trainBody, trainHead and scoreRows", () => {
    // Prepare
    const layout = modelLayout({ kind: "mlp", hidden: [5] }, 2);
    const data = separableRows(50, 2);
    const body = initBody(layout, seededRandom(1));
    const head = new Float32Array(layout.headSize);
    const empty: Dataset = { x: new Float32Array(0), y: new Uint8Array(0), rows: 0, dim: 2 };
    const opts = { epochs: 2, batchSize: 8, learningRate: 0.1, l2: 0.01 };
    const before = tf.memory().numTensors;

    // Execute
    const trained = trainBody(layout, body, data, { ...opts, rng: seededRandom(1) });
    const afterBody = tf.memory().numTensors;
    trainBody(layout, body, data, { ...opts, steps: 13, rng: seededRandom(1), correction: uniform(layout.bodySize, 2) });
    trainBody(layout, body, empty, { ...opts, rng: seededRandom(1), correction: uniform(layout.bodySize, 2) });
    trainBody(layout, body, data, { ...opts, steps: 5, rng: seededRandom(1), correction: uniform(layout.bodySize, 2), proximal: { mu: 0.5, anchor: body } });
    trainBody(layout, body, empty, { ...opts, rng: seededRandom(1), proximal: { mu: 0.5, anchor: body } });
    const afterCorrected = tf.memory().numTensors;
    const fitted = trainHead(layout, trained.params, head, data, { ...opts, rng: seededRandom(1) });
    const afterHead = tf.memory().numTensors;
    scoreRows(layout, trained.params, fitted.params, data);
    scoreRows(layout, trained.params, null, data);

    // Assert
    expect([afterBody, afterCorrected, afterHead, tf.memory().numTensors]).toEqual([before, before, before, before]);
  });
});

describe("training's loss with its gradient written out", () => {
  it("gives tfjs's sigmoid cross-entropy and its gradient, for logits of every size and both labels", async () => {
    await selectBackend("cpu");
    const z = Float32Array.from([-40, -3.5, -0.2, 0, 0.7, 2.5, 35, -1, 1, 12]);
    const y = Float32Array.from([0, 1, 0, 1, 1, 0, 1, 1, 0, 0]);
    const [mine, theirs] = [FAST_OPS, TFJS_OPS].map((ops) => {
      const f = (zt: tf.Tensor) => ops.bce(zt as tf.Tensor1D, tf.tensor1d(y));
      const { value, grad } = tf.valueAndGrad(f)(tf.tensor1d(z));
      return { value: value.dataSync()[0]!, grad: Array.from(grad.dataSync()) };
    });
    expect(mine!.value).toBeCloseTo(theirs!.value, 6);
    expect(mine!.grad).toEqual(theirs!.grad.map((g) => expect.closeTo(g, 7)));
    expect(Number.isFinite(mine!.value)).toBe(true);
  });

  it("trains to the same body as tfjs's own operations, step for step", async () => {
    await selectBackend("cpu");
    const data = logisticRows(96, [1.5, -2, 0.5], 0.3, 4);
    const layout = modelLayout({ kind: "mlp", hidden: [8, 4] }, data.dim);
    const body = initBody(layout, seededRandom(3));
    const opts = { epochs: 3, batchSize: 16, learningRate: 0.2, l2: 0.01 };
    const fast = trainBody(layout, body, data, { ...opts, rng: seededRandom(5) });
    const plain = trainBody(layout, body, data, { ...opts, rng: seededRandom(5), ops: TFJS_OPS });
    expect(fast.steps).toBe(plain.steps);
    expect(fast.loss).toBeCloseTo(plain.loss, 5);
    expect(Array.from(fast.params)).toEqual(Array.from(plain.params).map((v) => expect.closeTo(v, 5)));
    expect(Array.from(fast.params)).not.toEqual(Array.from(body));
  });
});

/** Three Gaussian blobs in 2-D, one per class, `n` rows each, shuffled. */
function blobs(n: number, seed: number): Dataset {
  const rng = seededRandom(seed);
  const centres = [[2, 0], [-1, 1.7], [-1, -1.7]];
  const rows = 3 * n;
  const x = new Float32Array(rows * 2);
  const y = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const c = r % 3;
    y[r] = c;
    x[2 * r] = centres[c]![0]! + 0.5 * (2 * rng() - 1);
    x[2 * r + 1] = centres[c]![1]! + 0.5 * (2 * rng() - 1);
  }
  return { x, y, rows, dim: 2 };
}

describe("K-class training (softmax)", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });

  it("gives tfjs's softmax cross-entropy and its gradient, large logits included", () => {
    const z = [[-40, 0, 40], [0.3, -1.2, 2], [5, 5, 5], [1, -3, 0.5]];
    const y = [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 1, 0]];
    const [mine, theirs] = [FAST_OPS, TFJS_OPS].map((ops) => {
      const f = (zt: tf.Tensor) => ops.softmaxCe(zt as tf.Tensor2D, tf.tensor2d(y));
      const { value, grad } = tf.valueAndGrad(f)(tf.tensor2d(z));
      return { value: value.dataSync()[0]!, grad: Array.from(grad.dataSync()) };
    });
    expect(mine!.value).toBeCloseTo(theirs!.value, 5);
    expect(mine!.grad).toEqual(theirs!.grad.map((g) => expect.closeTo(g, 6)));
    // Row 0 predicts its class with certainty; row 2 is uniform: ln 3. The mean over four rows.
    const manual = (0 + (Math.log(Math.exp(0.3) + Math.exp(-1.2) + Math.exp(2)) - 0.3) + Math.log(3) + (Math.log(Math.exp(1) + Math.exp(-3) + Math.exp(0.5)) + 3)) / 4;
    expect(mine!.value).toBeCloseTo(manual, 5);
  });

  it("separates three classes, scores rows as probabilities that sum to 1, and trains as tfjs's own operations do", () => {
    // Prepare
    const data = blobs(40, 7);
    const layout = modelLayout({ kind: "mlp", hidden: [6] }, 2, 3);
    const body = initBody(layout, seededRandom(2));
    const opts = { epochs: 20, batchSize: 16, learningRate: 0.3, l2: 0.001 };

    // Execute
    const fast = trainBody(layout, body, data, { ...opts, rng: seededRandom(4) });
    const plain = trainBody(layout, body, data, { ...opts, rng: seededRandom(4), ops: TFJS_OPS });
    const p = scoreRows(layout, fast.params, null, data);

    // Assert
    expect(layout.head[0]!.shape).toEqual([6, 3]);
    expect(p.length).toBe(data.rows * 3);
    for (let r = 0; r < data.rows; r++) expect(p[3 * r]! + p[3 * r + 1]! + p[3 * r + 2]!).toBeCloseTo(1, 5);
    const predicted = Array.from({ length: data.rows }, (_, r) => [0, 1, 2].reduce((best, c) => (p[3 * r + c]! > p[3 * r + best]! ? c : best), 0));
    expect(predicted.filter((c, r) => c === data.y[r]).length / data.rows).toBeGreaterThanOrEqual(0.97);
    expect(fast.loss).toBeLessThan(0.2);
    expect(Array.from(fast.params)).toEqual(Array.from(plain.params).map((v) => expect.closeTo(v, 4)));
  });

  it("fits a K-class personal head on a frozen body", () => {
    const data = blobs(30, 9);
    const layout = modelLayout({ kind: "logreg" }, 2, 3);
    const body = new Float32Array(layout.bodySize);
    const fitted = trainHead(layout, body, new Float32Array(layout.headSize), data, { epochs: 30, batchSize: 16, learningRate: 0.5, l2: 0, rng: seededRandom(1) });
    expect(fitted.params.length).toBe(2 * 3 + 3);
    expect(fitted.loss).toBeLessThan(Math.log(3) / 2);
  });
});
