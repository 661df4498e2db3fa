import { describe, expect, it } from "vitest";
import { decodeState, encodeState } from "./state-codec.ts";
import { emptyState, type StrategyState } from "./strategy.ts";

describe("encodeState / decodeState", () => {
  it.each([
    ["the empty state", emptyState],
    ["scalars only", { scalars: { t: 3, lr: 0.25 }, vectors: {} }],
    ["vectors of several lengths", { scalars: { t: 1 }, vectors: { v: Float32Array.from([1e-30, -0, 3.5]), m: Float32Array.from([0.1, -2]), e: new Float32Array(0) } }],
  ] as [string, StrategyState][])("round-trips %s exactly", (_, state) => {
    // Execute
    const decoded = decodeState(encodeState(state));

    // Assert
    expect(decoded).toEqual(state);
  });

  it("encodes a vector that is a view into a larger buffer by its own values only", () => {
    // Prepare
    const backing = Float32Array.from([9, 1, 2, 9]);
    const state = { scalars: {}, vectors: { m: backing.subarray(1, 3) } };

    // Execute
    const decoded = decodeState(encodeState(state));

    // Assert
    expect(decoded.vectors.m).toEqual(Float32Array.from([1, 2]));
  });

  it("does not depend on the order vectors were added in", () => {
    // Prepare
    const a = { scalars: { t: 1 }, vectors: { m: Float32Array.from([1]), v: Float32Array.from([2]) } };
    const b = { scalars: { t: 1 }, vectors: { v: Float32Array.from([2]), m: Float32Array.from([1]) } };

    // Execute
    const [ea, eb] = [encodeState(a), encodeState(b)];

    // Assert
    expect(eb).toEqual(ea);
  });

  it("decodes from a view at an unaligned offset", () => {
    // Prepare
    const bytes = encodeState({ scalars: {}, vectors: { m: Float32Array.from([1.5, -2.5]) } });
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);

    // Execute
    const decoded = decodeState(shifted.subarray(1));

    // Assert
    expect(decoded.vectors.m).toEqual(Float32Array.from([1.5, -2.5]));
  });

  it.each([
    ["fewer than 4 bytes", () => new Uint8Array(3), "strategy state is truncated"],
    ["a header longer than the bytes", () => Uint8Array.from([200, 0, 0, 0, 123]), "strategy state header is truncated"],
    [
      "a vector cut short",
      () => encodeState({ scalars: {}, vectors: { moments: Float32Array.from([1, 2, 3]) } }).slice(0, -1),
      'strategy state vector "moments" is truncated',
    ],
  ])("rejects %s", (_, bytes, message) => {
    // Execute
    const run = () => decodeState(bytes());

    // Assert
    expect(run).toThrow(message);
  });
});
