import { describe, expect, it } from "vitest";
import { keptCount } from "./kept-count.ts";
import { failure } from "../../test/support/codec.ts";

describe("keptCount", () => {
  it.each([
    [0.1, 1_000_000, 100_000],
    [0.1, 13, 2],
    [0.3, 13, 4],
    [0.07, 100, 7], // 7.000000000000001 in binary floating point
    [1, 5, 5],
    [1e-9, 5, 1],
    [0.5, 0, 0],
  ])("keeps ceil(%f × %i) = %i coordinates", (fraction, length, k) => {
    // Execute
    const kept = keptCount(fraction, length);

    // Assert
    expect(kept).toBe(k);
  });

  it.each([0, -0.1, 1.5, Number.NaN])("rejects a fraction of %s", (fraction) => {
    // Execute
    const error = failure(() => keptCount(fraction, 10));

    // Assert
    expect(error).toEqual({
      name: "ConfigError",
      code: "INVALID_CONFIG",
      message: `a sparse codec keeps a fraction in (0, 1] of the values, got ${fraction}`,
    });
  });
});
