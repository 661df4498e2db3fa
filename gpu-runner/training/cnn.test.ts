import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../core/errors.ts";
import { initBody } from "../../core/model/init-params.ts";
import { modelLayout } from "../../core/model/layout.ts";
import { parseModelSpec } from "../../core/model/model-spec.ts";
import { validationLoss } from "../../core/model/validation-loss.ts";
import { seededRandom } from "../../core/random.ts";
import type { Dataset } from "../../core/preprocess/transform.ts";
import { digitsSpec, loadDigits } from "../data/builtin-datasets.ts";
import { mergeSiteStats } from "../../core/preprocess/merge-stats.ts";
import { computeSiteStats } from "../../core/preprocess/site-stats.ts";
import { applyPreprocessing } from "../../core/preprocess/transform.ts";
import { selectBackend } from "../model/backend.ts";
import { scoreRows } from "../model/score-rows.ts";
import { rowCrossEntropy } from "./choose-personal.ts";
import { trainBody } from "./train.ts";

const uniform = (n: number, seed: number, scale = 1) => {
  const rng = seededRandom(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * rng() - 1));
};

/** The digits, standardised as a consortium of one would: 64 inputs, 10 classes. */
async function digits(): Promise<Dataset> {
  const table = await loadDigits();
  return applyPreprocessing(table, mergeSiteStats([computeSiteStats(table, digitsSpec)], digitsSpec));
}

describe("a convolutional body", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });

  it("lays out convolution blocks (3×3 kernels, each halving the image) before its dense layers and output", () => {
    const layout = modelLayout(parseModelSpec("cnn:8x8x1:8,16:32"), 64, 10);
    expect(layout.image).toEqual({ height: 8, width: 8, channels: 1 });
    expect(layout.body.map((s) => [s.name, s.shape])).toEqual([
      ["conv0/kernel", [3, 3, 1, 8]], ["conv0/bias", [8]],
      ["conv1/kernel", [3, 3, 8, 16]], ["conv1/bias", [16]],
      // 8×8 → 4×4 → 2×2, 16 filters: 64 values flattened.
      ["dense0/kernel", [64, 32]], ["dense0/bias", [32]],
      ["out/kernel", [32, 10]], ["out/bias", [10]],
    ]);
    expect(layout.head.map((s) => s.shape)).toEqual([[32, 10], [10]]);
    // Glorot-uniform over the 3×3 window: conv0's 72 weights within ±√(6 / (9·1 + 9·8)), spread over most of it; the output layer at zero.
    const body = initBody(layout, seededRandom(1));
    const limit = Math.sqrt(6 / (9 + 72));
    const conv0 = Array.from(body.subarray(0, 72));
    expect(Math.max(...conv0.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...conv0.map(Math.abs))).toBeGreaterThan(0.8 * limit);
    const out = layout.body.find((s) => s.name === "out/kernel")!;
    expect(body.subarray(out.offset, out.offset + out.size).every((v) => v === 0)).toBe(true);
  });

  it("is refused when its image does not make the features' inputs, or pooling leaves nothing, naming both", () => {
    expect(() => modelLayout(parseModelSpec("cnn:8x8x1:8"), 30)).toThrow(new ConfigError("the model cnn:8x8x1:8 takes 8×8×1 = 64 inputs, the features make 30"));
    expect(() => modelLayout(parseModelSpec("cnn:4x4x1:2,2,2"), 16)).toThrow("pools a 4×4 image 3 times: nothing is left of it");
  });

  it("scores the same on the coordinator's typed arrays as in TensorFlow.js (validation loss), binary and K-class, odd image sizes included", () => {
    for (const [text, inputs, outputs] of [["cnn:5x7x2:3,4:6", 70, 3], ["cnn:6x6x1:4", 36, 1]] as const) {
      const layout = modelLayout(parseModelSpec(text), inputs, outputs);
      const body = uniform(layout.bodySize, 3, 0.6);
      const rng = seededRandom(4);
      const data: Dataset = { x: uniform(12 * inputs, 5), y: Uint8Array.from({ length: 12 }, () => Math.floor(rng() * Math.max(2, outputs))), rows: 12, dim: inputs };
      const p = scoreRows(layout, body, null, data);
      const expected = rowCrossEntropy(p, data.y).reduce((a, b) => a + b, 0) / data.rows;
      expect(validationLoss(layout, body, data)).toBeCloseTo(expected, 4);
    }
  });

  it("learns the digits: a small CNN trained on most of them sorts the rest", async () => {
    // Prepare: every fifth image held out.
    const all = await digits();
    const pick = (keep: (i: number) => boolean): Dataset => {
      const rows = Array.from({ length: all.rows }, (_, i) => i).filter(keep);
      const x = new Float32Array(rows.length * 64);
      rows.forEach((r, i) => x.set(all.x.subarray(r * 64, (r + 1) * 64), i * 64));
      return { x, y: Uint8Array.from(rows, (r) => all.y[r]!), rows: rows.length, dim: 64 };
    };
    const [train, test] = [pick((i) => i % 5 !== 0), pick((i) => i % 5 === 0)];
    // The backend a site without libtensorflow trains on, whose convolution has no kernel gradient of tfjs's own.
    await selectBackend("wasm");
    const layout = modelLayout(parseModelSpec("cnn:8x8x1:8,16"), 64, 10);

    // Execute
    const result = trainBody(layout, initBody(layout, seededRandom(2)), train, { epochs: 8, batchSize: 32, learningRate: 0.1, l2: 0.0001, rng: seededRandom(3) });
    const p = scoreRows(layout, result.params, null, test);

    // Assert
    let correct = 0;
    for (let r = 0; r < test.rows; r++) {
      let best = 0;
      for (let c = 1; c < 10; c++) if (p[r * 10 + c]! > p[r * 10 + best]!) best = c;
      if (best === test.y[r]) correct++;
    }
    await selectBackend("cpu");
    expect(correct / test.rows).toBeGreaterThan(0.93);
  });
});
