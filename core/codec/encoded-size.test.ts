import { describe, expect, it } from "vitest";
import { encodedSize } from "./encoded-size.ts";
import { failure } from "./testing.ts";

describe("encodedSize", () => {
  it.each([
    [1000, "float32", {}, 16 + 4000 + 32],
    [1000, "int8", {}, 16 + 4 * 4 + 1000 + 32],
    [1000, "int8", { chunkSize: 100 }, 16 + 10 * 4 + 1000 + 32],
    [0, "int8", {}, 48],
    [2 ** 32 - 1, "float32", {}, 16 + 4 * (2 ** 32 - 1) + 32],
  ] as const)("sizes %i values as %s %o at %i bytes", (length, codec, options, bytes) => {
    // Execute
    const size = encodedSize(length, codec, options);

    // Assert
    expect(size).toBe(bytes);
  });

  it.each([-1, 1.5, 2 ** 32])("rejects a length of %s", (length) => {
    // Execute
    const error = failure(() => encodedSize(length, "float32"));

    // Assert
    expect(error).toEqual({
      name: "ConfigError",
      code: "INVALID_CONFIG",
      message: `an update holds 0 to 4294967295 values, got ${length}`,
    });
  });
});
