import { describe, expect, it } from "vitest";
import { subsetBits } from "./subset-bits.ts";

/** n · H2(k / n) in float64, the quantity `subsetBits` bounds from above with integers. */
function entropyBits(n: number, k: number): number {
  const p = k / n;
  return -n * (p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
}

describe("subsetBits", () => {
  it.each([
    [13, 4, 12], // 11.58 bits
    [2, 1, 3], // exactly 2 bits, and the last unit of each logarithm rounds it past
    [1_000_000, 100_000, 468_996], // 468,995.6 bits
    [130_241, 13_025, 61_086], // 61,085.3 bits
    [2 ** 32 - 1, 1, 35], // 33.4 bits and 2^-7 for the rounding, rounded up
  ])("bounds n · H2(k / n) plus the coder's rounding with an integer (n %i, k %i)", (n, k, bits) => {
    // Execute
    const bound = subsetBits(n, k);

    // Assert
    expect(bound).toBe(bits);
  });

  it("lies between n · H2(k / n) plus the rounding allowance and 3 bits above it", () => {
    for (const n of [2, 3, 10, 97, 1000, 65_537, 1_000_003, 2 ** 31 + 11, 2 ** 32 - 1]) {
      for (const k of [1, 2, Math.floor(n / 1000), Math.floor(n / 10), Math.floor(n / 2), n - 1]) {
        if (k < 1 || k >= n) continue;
        // Prepare
        const least = entropyBits(n, k) + (k * n) / 2 ** 39;

        // Execute
        const bound = subsetBits(n, k);

        // Assert: a float64 entropy is good to about n · 2^-50 bits, well inside the margins.
        expect({ n, k, above: bound >= least - 1e-3, within: bound <= least + 3 }).toEqual({ n, k, above: true, within: true });
      }
    }
  });
});
