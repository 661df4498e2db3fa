import { describe, expect, it } from "vitest";
import { seededRandom } from "../random.ts";
import { decodeUpdate } from "./decode-update.ts";
import { encodeUpdate } from "./encode-update.ts";
import { encodeWithFeedback } from "./encode-with-feedback.ts";
import { seededValues } from "../../test/support/codec.ts";

const topk = (values: Float32Array) => encodeUpdate(values, "topk-int8", { fraction: 0.1, rng: seededRandom(values.length) });

describe("encodeWithFeedback", () => {
  it("keeps as residual exactly what the encoding dropped", () => {
    // Prepare
    const delta = seededValues(1000, 1);

    // Execute
    const { bytes, residual } = encodeWithFeedback(delta, null, topk);

    // Assert
    const sent = decodeUpdate(bytes).values;
    expect(Array.from(residual)).toEqual(Array.from(delta, (d, i) => Math.fround(d - sent[i]!)));
    // 900 dropped coordinates carry their whole delta; the 100 kept only their rounding error.
    expect(residual.filter((r, i) => r === delta[i]).length).toBe(900);
  });

  it("sends, over rounds, everything but the last residual", () => {
    // Prepare: three rounds of top-10% with int8 values.
    const deltas = [seededValues(1000, 1), seededValues(1000, 2), seededValues(1000, 3)];
    const sentTotal = new Float64Array(1000);
    const withoutFeedback = new Float64Array(1000);
    let residual: Float32Array | null = null;

    // Execute
    for (const delta of deltas) {
      const step: { bytes: Uint8Array; residual: Float32Array } = encodeWithFeedback(delta, residual, topk);
      decodeUpdate(step.bytes).values.forEach((v, i) => (sentTotal[i]! += v));
      decodeUpdate(topk(delta)).values.forEach((v, i) => (withoutFeedback[i]! += v));
      residual = step.residual;
    }

    // Assert: sent + residual = Σ deltas up to float32 rounding of the sums (|values| < 4).
    const deltaTotal = Float64Array.from({ length: 1000 }, (_, i) => deltas.reduce((s, d) => s + d[i]!, 0));
    const gap = Math.max(...Array.from(deltaTotal, (d, i) => Math.abs(sentTotal[i]! + residual![i]! - d)));
    const lost = Math.max(...Array.from(deltaTotal, (d, i) => Math.abs(withoutFeedback[i]! - d)));
    expect(gap).toBeLessThan(1e-6);
    expect(lost).toBeGreaterThan(0.5);
  });

  it("lets a coordinate too small for one round through once it has built up", () => {
    // Prepare: coordinate 0 moves by 0.3 a round, below the threshold of the one other value, 1.
    const delta = new Float32Array(10).fill(0);
    delta[0] = 0.3;
    delta[1] = 1;
    const one = (values: Float32Array) => encodeUpdate(values, "topk-float16", { fraction: 0.1 });
    let residual: Float32Array | null = null;
    const sentAtZero: number[] = [];

    // Execute: k = 1; the residual at 1 stays 0, at 0 it grows 0.3 a round until it wins.
    for (let round = 0; round < 5; round++) {
      const step: { bytes: Uint8Array; residual: Float32Array } = encodeWithFeedback(delta, residual, one);
      sentAtZero.push(decodeUpdate(step.bytes).values[0]!);
      residual = step.residual;
    }

    // Assert: rounds 1–3 send coordinate 1; round 4 sends the 1.2 built up at 0.
    expect(sentAtZero).toEqual([0, 0, 0, 1.2001953125, 0]);
  });
});
