import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../core/random.ts";
import { selectBackend, type BackendName } from "./backend.ts";
import { conv, dense, tfjsConv, tfjsDense, type Conv, type Dense } from "./model.ts";

const uniform = (n: number, seed: number) => {
  const rng = seededRandom(seed);
  return Float32Array.from({ length: n }, () => 2 * rng() - 1);
};

/** The gradients of `sum(layer(x, W, b) ⊙ R)` with respect to x, W and b, for fixed random R. */
function gradients(layer: Dense, relu: boolean, x: Float32Array, w: Float32Array, b: Float32Array, rows: number, inputs: number, outputs: number): Float32Array[] {
  const r = tf.tensor2d(uniform(rows * outputs, 9), [rows, outputs]);
  const f = (xt: tf.Tensor, wt: tf.Tensor, bt: tf.Tensor) => tf.sum(tf.mul(layer(xt as tf.Tensor2D, wt as tf.Tensor2D, bt as tf.Tensor1D, relu), r));
  const grads = tf.grads(f)([tf.tensor2d(x, [rows, inputs]), tf.tensor2d(w, [inputs, outputs]), tf.tensor1d(b)]);
  const out = grads.map((g) => g.dataSync() as Float32Array);
  tf.dispose([...grads, r]);
  return out;
}

function value(layer: Dense, relu: boolean, x: Float32Array, w: Float32Array, b: Float32Array, rows: number, inputs: number, outputs: number): number {
  return tf.tidy(() => {
    const r = tf.tensor2d(uniform(rows * outputs, 9), [rows, outputs]);
    return tf.sum(tf.mul(layer(tf.tensor2d(x, [rows, inputs]), tf.tensor2d(w, [inputs, outputs]), tf.tensor1d(b), relu), r)).dataSync()[0]!;
  });
}

// Both backends a site without libtensorflow may run: the dense layer's own gradient must hold on each.
for (const backend of ["cpu", "wasm"] as BackendName[]) {
  describe(`the dense layer's own gradient (${backend})`, () => {
    afterAll(async () => void (await selectBackend("cpu")));
    const [rows, inputs, outputs] = [7, 5, 4];
    const x = uniform(rows * inputs, 1);
    const w = uniform(inputs * outputs, 2);
    const b = uniform(outputs, 3);

    for (const relu of [false, true]) {
      it(`gives tfjs's forward values and gradients${relu ? " through a ReLU" : ""}`, async () => {
        await selectBackend(backend);
        const fast = tf.tidy(() => dense(tf.tensor2d(x, [rows, inputs]), tf.tensor2d(w, [inputs, outputs]), tf.tensor1d(b), relu).dataSync() as Float32Array);
        const plain = tf.tidy(() => tfjsDense(tf.tensor2d(x, [rows, inputs]), tf.tensor2d(w, [inputs, outputs]), tf.tensor1d(b), relu).dataSync() as Float32Array);
        for (let i = 0; i < plain.length; i++) expect(fast[i]).toBeCloseTo(plain[i]!, 5);
        if (relu) expect(plain.some((v) => v === 0) && plain.some((v) => v > 0)).toBe(true);
        const mine = gradients(dense, relu, x, w, b, rows, inputs, outputs);
        const theirs = gradients(tfjsDense, relu, x, w, b, rows, inputs, outputs);
        expect(mine.map((g) => g.length)).toEqual([rows * inputs, inputs * outputs, outputs]);
        for (let k = 0; k < 3; k++) for (let i = 0; i < theirs[k]!.length; i++) expect(mine[k]![i]).toBeCloseTo(theirs[k]![i]!, 5);
      });

      it(`as a first layer (data in, no input gradient) gives the same weight gradients${relu ? " through a ReLU" : ""}`, async () => {
        await selectBackend(backend);
        const first: Dense = (a, k, c, r) => dense(a, k, c, r, false);
        const [gx, gw, gb] = gradients(first, relu, x, w, b, rows, inputs, outputs);
        const [, tw, tb] = gradients(tfjsDense, relu, x, w, b, rows, inputs, outputs);
        expect(Array.from(gx!).every((v) => v === 0)).toBe(true);
        for (let i = 0; i < tw!.length; i++) expect(gw![i]).toBeCloseTo(tw![i]!, 5);
        for (let i = 0; i < tb!.length; i++) expect(gb![i]).toBeCloseTo(tb![i]!, 5);
      });

      it(`matches central differences${relu ? " through a ReLU" : ""}`, async () => {
        await selectBackend(backend);
        const [gx, gw, gb] = gradients(dense, relu, x, w, b, rows, inputs, outputs);
        const h = 1e-2;
        const check = (which: "x" | "w" | "b", g: Float32Array) => {
          const base = { x, w, b }[which];
          for (let i = 0; i < base.length; i++) {
            const plus = Float32Array.from(base);
            const minus = Float32Array.from(base);
            plus[i]! += h;
            minus[i]! -= h;
            const at = (v: Float32Array) => value(dense, relu, which === "x" ? v : x, which === "w" ? v : w, which === "b" ? v : b, rows, inputs, outputs);
            expect(g[i]!, `${which}[${i}]`).toBeCloseTo((at(plus) - at(minus)) / (2 * h), 2);
          }
        };
        check("x", gx!);
        check("w", gw!);
        check("b", gb!);
      });
    }
  });
}

/** `sum(layer(x, K, b) ⊙ R)` for fixed random R, and its gradients with respect to x, K and b. */
function convProbe(layer: Conv, input: boolean, shape: { n: number; h: number; w: number; c: number; f: number }) {
  const { n, h, w, c, f } = shape;
  const r = uniform(n * h * w * f, 19);
  const at = (x: Float32Array, k: Float32Array, b: Float32Array) =>
    tf.tidy(() => tf.sum(tf.mul(layer(tf.tensor4d(x, [n, h, w, c]), tf.tensor4d(k, [3, 3, c, f]), tf.tensor1d(b), input), tf.tensor4d(r, [n, h, w, f]))).dataSync()[0]!);
  const grads = (x: Float32Array, k: Float32Array, b: Float32Array) => {
    const rt = tf.tensor4d(r, [n, h, w, f]);
    const g = tf.grads((xt: tf.Tensor, kt: tf.Tensor, bt: tf.Tensor) => tf.sum(tf.mul(layer(xt as tf.Tensor4D, kt as tf.Tensor4D, bt as tf.Tensor1D, input), rt)))([tf.tensor4d(x, [n, h, w, c]), tf.tensor4d(k, [3, 3, c, f]), tf.tensor1d(b)]);
    const out = g.map((t) => Float32Array.from(t.dataSync()));
    tf.dispose([...g, rt]);
    return out;
  };
  return { at, grads };
}

describe("the convolution's own gradient", () => {
  afterAll(async () => void (await selectBackend("cpu")));
  const shape = { n: 3, h: 5, w: 4, c: 2, f: 3 };
  const x = uniform(shape.n * shape.h * shape.w * shape.c, 11);
  const k = uniform(9 * shape.c * shape.f, 12);
  const b = uniform(shape.f, 13).map((v) => v * 0.3);

  it("gives tfjs's forward values and gradients (cpu, where tfjs has every gradient)", async () => {
    await selectBackend("cpu");
    const mine = convProbe(conv, true, shape);
    const theirs = convProbe(tfjsConv, true, shape);
    expect(mine.at(x, k, b)).toBeCloseTo(theirs.at(x, k, b), 4);
    const [gm, gt] = [mine.grads(x, k, b), theirs.grads(x, k, b)];
    expect(gm.map((g) => g.length)).toEqual([x.length, k.length, b.length]);
    for (let j = 0; j < 3; j++) for (let i = 0; i < gt[j]!.length; i++) expect(gm[j]![i]).toBeCloseTo(gt[j]![i]!, 4);
    // As a first layer its input gradient is zeros, its kernel's and bias's the same.
    const first = convProbe(conv, false, shape).grads(x, k, b);
    expect(first[0]!.every((v) => v === 0)).toBe(true);
    for (let i = 0; i < k.length; i++) expect(first[1]![i]).toBeCloseTo(gt[1]![i]!, 4);
  });

  for (const backend of ["cpu", "wasm"] as BackendName[]) {
    it(`matches central differences (${backend})`, async () => {
      await selectBackend(backend);
      const probe = convProbe(conv, true, shape);
      const [gx, gk, gb] = probe.grads(x, k, b);
      // A step small enough not to cross a ReLU's kink at these draws; float32 sums keep the differences to about 1e-3.
      const h = 1e-3;
      const check = (which: "x" | "k" | "b", g: Float32Array) => {
        const base = { x, k, b }[which];
        for (let i = 0; i < base.length; i++) {
          const plus = Float32Array.from(base);
          const minus = Float32Array.from(base);
          plus[i]! += h;
          minus[i]! -= h;
          const f = (v: Float32Array) => probe.at(which === "x" ? v : x, which === "k" ? v : k, which === "b" ? v : b);
          expect(Math.abs(g[i]! - (f(plus) - f(minus)) / (2 * h)), `${which}[${i}]`).toBeLessThan(0.01);
        }
      };
      check("x", gx!);
      check("k", gk!);
      check("b", gb!);
    });
  }
});
