import { describe, expect, it } from "vitest";
import { CodecSpec, decodeUpdate } from "../codec/index.ts";
import { seededValues } from "../../test/support/codec.ts";
import { applyDownlink, downlinkStep } from "./downlink.ts";
import { seededRandom } from "../random.ts";

describe("the compressed down-link", () => {
  it.each(["int8", "int4", "float16", "topk:0.1+int8"])("publishes exactly what a site holding the previous model rebuilds, with %s", (spec) => {
    const held = seededValues(1000, 1, 0.5);
    const target = Float32Array.from(held, (v, i) => v + 0.01 * Math.sin(i));
    const step = downlinkStep(held, target, null, CodecSpec.parse(spec), seededRandom(3));
    const rebuilt = applyDownlink(held, step.bytes);
    expect(Buffer.from(rebuilt.buffer).equals(Buffer.from(step.model.buffer))).toBe(true);
    // What the delta left out is the residual.
    const sent = decodeUpdate(step.bytes).values;
    for (let i = 0; i < held.length; i++) expect(step.residual[i]!).toBeCloseTo(target[i]! - held[i]! - sent[i]!, 6);
  });

  it("carries what it leaves out, so that a strategy building on the held model still follows every move", () => {
    // FedAvg through the down-link: each round's model is the held one plus the same mean delta,
    // with large and small coordinates. Top-k at 10 % sends only the large ones each round; the
    // small ones must still arrive through the residual.
    const n = 500;
    const step = Float32Array.from({ length: n }, (_, i) => (i % 10 === 0 ? 1 : 0.1));
    const codec = CodecSpec.parse("topk:0.1+int8");
    const rounds = 20;
    const run = (carry: boolean) => {
      let held: Float32Array = new Float32Array(n);
      let residual: Float32Array | null = null;
      for (let r = 1; r <= rounds; r++) {
        const target = Float32Array.from(held, (v, i) => v + step[i]!);
        const out = downlinkStep(held, target, carry ? residual : null, codec, seededRandom(r));
        held = out.model;
        residual = out.residual;
        // Held model + residual is the uncompressed trajectory: r moves of the step.
        if (carry) for (let i = 0; i < n; i += 37) expect(held[i]! + residual[i]!).toBeCloseTo(r * step[i]!, 3);
      }
      const small = Array.from({ length: n }, (_, i) => i).filter((i) => i % 10 !== 0);
      return small.reduce((s, i) => s + held[i]!, 0) / small.length;
    };
    // Without the residual the small coordinates never move; with it, once what they are owed
    // outgrows the large coordinates' step (after ten rounds), they arrive.
    expect(run(false)).toBe(0);
    expect(run(true)).toBeGreaterThan(0.4 * rounds * 0.1);
  });

  it("is deterministic for the same rounding stream, and refuses a delta or residual of another length", () => {
    const held = seededValues(300, 5);
    const target = seededValues(300, 6);
    const a = downlinkStep(held, target, null, CodecSpec.parse("int8"), seededRandom(9));
    const b = downlinkStep(held, target, null, CodecSpec.parse("int8"), seededRandom(9));
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(() => applyDownlink(new Float32Array(299), a.bytes)).toThrow(/LENGTH_MISMATCH|299/);
    expect(() => downlinkStep(held, new Float32Array(3), null, CodecSpec.parse("int8"), seededRandom(1))).toThrow(RangeError);
    expect(() => downlinkStep(held, target, new Float32Array(3), CodecSpec.parse("int8"), seededRandom(1))).toThrow(RangeError);
  });
});
