import { describe, expect, it } from "vitest";
import { eliasFanoBytes, eliasFanoLowBits, readEliasFano, writeEliasFano } from "./elias-fano.ts";
import { toHex } from "./testing.ts";

/** Writes `indices` below `n` and returns the section's bytes. */
function written(indices: number[], n: number): Uint8Array {
  const bytes = new Uint8Array(eliasFanoBytes(n, indices.length));
  writeEliasFano(Uint32Array.from(indices), n, new DataView(bytes.buffer));
  return bytes;
}

describe("Elias–Fano index coding", () => {
  it.each([
    // n, k, L, bytes: ceil(k·L / 8) + ceil((k + ceil(n / 2^L)) / 8)
    [13, 4, 1, 1 + 2], // 13 / 4 = 3.25: 4 low bits, 4 + 7 = 11 high bits
    [1_000_000, 100_000, 3, 37_500 + 28_125], // 10 per index: 300,000 low bits, 225,000 high bits
    [1000, 1000, 0, 0 + 250], // every coordinate: no low bits, 2000 high bits
    [1000, 1, 9, 2 + 1], // 2^9 ≤ 1000 < 2^10: 9 low bits, 1 + 2 high bits
    [2 ** 32 - 1, 1, 31, 4 + 1], // the largest update: 31 low bits, 1 + 2 high bits
    [7, 0, 0, 0], // nothing kept: no bits at all
    [0, 0, 0, 0],
  ])("takes L = floor(log2(n / k)) low bits and a fixed number of bytes (n %i, k %i)", (n, k, low, bytes) => {
    // Execute
    const measured = { low: eliasFanoLowBits(n, k), bytes: eliasFanoBytes(n, k) };

    // Assert
    expect(measured).toEqual({ low, bytes });
  });

  it("writes the hand-derived bits of a small sequence", () => {
    // Prepare: n 13, k 4, L 1. Low bits of 0, 1, 6, 10: 0, 1, 0, 0 → 0b0010. High parts 0, 0, 3, 5
    // plus their positions 0, 1, 2, 3 set bits 0, 1, 5, 8 → 0b00100011, 0b00000001.
    const indices = [0, 1, 6, 10];

    // Execute
    const bytes = written(indices, 13);

    // Assert
    expect(toHex(bytes)).toBe("02" + "23" + "01");
  });

  it.each([
    [[], 5],
    [[4], 5],
    [[0, 1, 2, 3, 4], 5],
    [[0, 999_999], 1_000_000],
    [[3, 17, 18, 64, 65, 66, 200, 511], 512],
    [[2 ** 32 - 2], 2 ** 32 - 1],
  ])("reads back what it wrote (%j below %i)", (indices, n) => {
    // Prepare
    const bytes = written(indices, n);
    const out = new Uint32Array(indices.length);

    // Execute
    const problem = readEliasFano(new DataView(bytes.buffer), n, indices.length, out);

    // Assert
    expect(problem).toBeUndefined();
    expect(Array.from(out)).toEqual(indices);
  });
});
