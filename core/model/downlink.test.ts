import { describe, expect, it } from "vitest";
import { CodecSpec, decodeUpdate } from "../codec/index.ts";
import { seededValues } from "../codec/testing.ts";
import { applyDownlink, downlinkStep } from "./downlink.ts";
import { seededRandom } from "./init-params.ts";

describe("the compressed down-link", () => {
  it.each(["int8", "int4", "float16", "topk:0.1+int8"])("publishes exactly what a site holding the previous model rebuilds, with %s", (spec) => {
    const held = seededValues(1000, 1, 0.5);
    const target = Float32Array.from(held, (v, i) => v + 0.01 * Math.sin(i));
    const step = downlinkStep(held, target, CodecSpec.parse(spec), seededRandom(3));
    const rebuilt = applyDownlink(held, step.bytes);
    expect(Buffer.from(rebuilt.buffer).equals(Buffer.from(step.model.buffer))).toBe(true);
    // The delta is the move to the target, compressed.
    const sent = decodeUpdate(step.bytes).values;
    let err = 0;
    for (let i = 0; i < held.length; i++) err = Math.max(err, Math.abs(sent[i]! - (target[i]! - held[i]!)));
    expect(err).toBeLessThan(0.011);
  });

  it("sends again what an earlier delta left out, so that the held model reaches the strategy's", () => {
    // Top-k at 10 % sends a tenth of the way each round; each delta starts from what sites hold, so the rest follows.
    const codec = CodecSpec.parse("topk:0.1+int8");
    const target = seededValues(500, 8, 1);
    let held: Float32Array = new Float32Array(500);
    const gaps: number[] = [];
    for (let round = 1; round <= 15; round++) {
      held = downlinkStep(held, target, codec, seededRandom(round)).model;
      let gap = 0;
      for (let i = 0; i < 500; i++) gap = Math.max(gap, Math.abs(held[i]! - target[i]!));
      gaps.push(gap);
    }
    // After ten rounds every coordinate has been sent; int8 leaves at most half a scale step behind.
    expect(gaps[4]!).toBeGreaterThan(0.3);
    expect(gaps[14]!).toBeLessThan(0.01);
  });

  it("is deterministic for the same rounding stream, and refuses a delta of another length", () => {
    const held = seededValues(300, 5);
    const target = seededValues(300, 6);
    const a = downlinkStep(held, target, CodecSpec.parse("int8"), seededRandom(9));
    const b = downlinkStep(held, target, CodecSpec.parse("int8"), seededRandom(9));
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(() => applyDownlink(new Float32Array(299), a.bytes)).toThrow(/LENGTH_MISMATCH|299/);
    expect(() => downlinkStep(held, new Float32Array(3), CodecSpec.parse("int8"), seededRandom(1))).toThrow(RangeError);
  });
});
