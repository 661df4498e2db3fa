import { describe, expect, it } from "vitest";
import { encodedSize } from "./encoded-size.ts";
import { failure } from "../../test/support/codec.ts";

describe("encodedSize", () => {
  it.each([
    [1000, "float32", {}, 16 + 4000 + 32],
    [1000, "float16", {}, 16 + 2000 + 32],
    [1000, "int8", {}, 16 + 4 * 4 + 1000 + 32],
    [1000, "int8", { chunkSize: 100 }, 16 + 10 * 4 + 1000 + 32],
    // 7 chunks of 128 (64 code bytes each) and a last one of 104 (52 code bytes).
    [1000, "int4", {}, 16 + 8 * 4 + 500 + 32],
    // 10 chunks of 100 (50 code bytes each) and a last one of 1 (1 byte, its high nibble padding).
    [1001, "int4", { chunkSize: 100 }, 16 + 11 * 4 + 501 + 32],
    // 142 odd chunks of 7 take 4 code bytes each, a padding nibble included; the last 6 take 3.
    [1000, "int4", { chunkSize: 7 }, 16 + 143 * 4 + 142 * 4 + 3 + 32],
    // k = 100: positions in ceil(1000 · H2(0.1) = 469.0 bits / 8) bytes, then 100 codes under one scale.
    [1000, "topk-int8", {}, 16 + 59 + 4 + 100 + 32],
    // k = 250: 1000 · H2(0.25) = 811.3 bits of positions, then 250 binary16 values.
    [1000, "topk-float16", { fraction: 0.25 }, 16 + 102 + 500 + 32],
    // The seed, then 100 codes under one scale.
    [1000, "randk-int8", {}, 16 + 4 + 4 + 100 + 32],
    // k = 1000: every coordinate kept, no position bytes; two chunks of kept values.
    [1000, "topk-int8", { fraction: 1 }, 16 + 2 * 4 + 1000 + 32],
    [0, "topk-int8", {}, 48],
    [0, "randk-int8", {}, 52],
    [0, "int8", {}, 48],
    [0, "int4", {}, 48],
    [0, "float16", {}, 48],
    [2 ** 32 - 1, "float32", {}, 16 + 4 * (2 ** 32 - 1) + 32],
    [2 ** 32 - 1, "float16", {}, 16 + 2 * (2 ** 32 - 1) + 32],
    // 2^25 chunks of 128, the last one short by a value (its last byte half padding).
    [2 ** 32 - 1, "int4", {}, 16 + 4 * 2 ** 25 + 2 ** 31 + 32],
  ] as const)("sizes %i values as %s %o at %i bytes", (length, codec, options, bytes) => {
    // Execute
    const size = encodedSize(length, codec, options);

    // Assert
    expect(size).toBe(bytes);
  });

  it.each([
    // Per value: 4.25 bits (4 + 32 / 128) at the default chunk, 7.53×; 4.5 bits at 64 would be 7.11×.
    ["int4", {}, 7.5],
    ["int4", { chunkSize: 64 }, 7.1],
    // 8 + 32 / 256 = 8.125 bits, 3.94.
    ["int8", { chunkSize: 256 }, 3.9],
    // 16 bits, 2 less the 48 bytes of header and checksum.
    ["float16", {}, 1.99],
    // 4.69 bits of position and 8.06 of value per kept value, 10% kept: 25.09.
    ["topk-int8", { fraction: 0.1 }, 25],
    // 8.06 bits per kept value, 10% kept: 39.67.
    ["randk-int8", { fraction: 0.1 }, 39.6],
    // 4.69 + 16 bits per kept value, 10% kept: 15.46.
    ["topk-float16", { fraction: 0.1 }, 15.4],
  ] as const)("makes 1M values as %s %o at least %f times smaller than float32", (codec, options, ratio) => {
    // Execute
    const measured = encodedSize(1_000_000, "float32") / encodedSize(1_000_000, codec, options);

    // Assert
    expect(measured).toBeGreaterThanOrEqual(ratio);
  });

  it.each([-1, 1.5, 2 ** 32].flatMap((length) => [[length, "float32"], [length, "topk-int8"]] as const))("rejects a length of %s (%s)", (length, codec) => {
    // Execute
    const error = failure(() => encodedSize(length, codec));

    // Assert
    expect(error).toEqual({
      name: "ConfigError",
      code: "INVALID_CONFIG",
      message: `an update holds 0 to 4294967295 values, got ${length}`,
    });
  });
});
