import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../core/random.ts";
import { selectBackend, type BackendName } from "./backend.ts";
import { dense, tfjsDense, type Dense } from "./model.ts";

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
