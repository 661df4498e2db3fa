import { describe, expect, it } from "vitest";
import { seededRandom } from "../random.ts";
import { decodeUpdate } from "./decode-update.ts";
import { encodeUpdate } from "./encode-update.ts";
import { encodedSize } from "./encoded-size.ts";
import { chunkRoundedTowardsZero, failure, roundingBias, sealed, seededValues, toHex } from "../../test/support/codec.ts";

const FLOAT32_MAX = 3.4028234663852886e38;

/** Bytes of one chunk's record of `n` values: the scale, then the codes two to a byte. */
const recordBytes = (n: number) => 4 + Math.ceil(n / 2);

/** Scale of each chunk, read from the container so the bound is checked against what was sent. */
function scales(bytes: Uint8Array, length: number, chunkSize: number): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: Math.ceil(length / chunkSize) }, (_, c) => view.getFloat32(16 + c * recordBytes(chunkSize), true));
}

/** Largest |decoded - value| in scales over the vector: at most 1/2 to nearest, under 1 stochastically. */
function worstErrorInScales(values: Float32Array, chunkSize: number, rng?: () => number): number {
  const bytes = encodeUpdate(values, "int4", { chunkSize, rng });
  const decoded = decodeUpdate(bytes).values;
  const chunkScales = scales(bytes, values.length, chunkSize);
  let worst = 0;
  for (let i = 0; i < values.length; i++) {
    const scale = chunkScales[Math.floor(i / chunkSize)]!;
    const error = Math.abs(decoded[i]! - values[i]!);
    // Storing scale × code as float32 adds up to half an ulp of the value on top of the rounding.
    const allowance = (Math.abs(values[i]!) + scale) * 2 ** -24;
    worst = Math.max(worst, scale === 0 ? (error === 0 ? 0 : Infinity) : (error - allowance) / scale);
  }
  return worst;
}

describe("int4 codec", () => {
  it("encodes a fixed vector to golden bytes, with an all-zero chunk and a short, odd last chunk", () => {
    // Prepare
    const values = new Float32Array([7, -3, 2.5, -0.5, 0, 0, 0, 0, 1.75, -0.25, 0.5]);

    // Execute
    const bytes = encodeUpdate(values, "int4", { chunkSize: 4 });

    // Assert
    expect(toHex(bytes)).toBe(
      "434e534c" + // magic "CNSL"
        "01" + // format version
        "04" + // codec id: int4
        "0000" + // reserved
        "0b000000" + // 11 values
        "04000000" + // chunk size 4
        "0000803f" + // scale 7 / 7 = 1
        "d7" + // codes 7 (low nibble 0x7) and -3 (high nibble 0xd, two's complement)
        "f3" + // codes 3 (2.5 is a tie, away from zero) and -1 (-0.5 likewise: 0xf)
        "00000000" + "0000" + // all-zero chunk: scale 0, codes 0
        "0000803e" + // short last chunk: scale 1.75 / 7 = 0.25
        "f7" + // codes 7 and -1
        "02" + // code 2, then a 0 padding nibble: each chunk starts on a byte
        "fc79c7e847924bce49ae036718085c3e1075a7583bba79c87091847af800fab0", // SHA-256 of the above
    );
  });

  it("writes the default chunk size of 128 into the header", () => {
    // Prepare
    const values = new Float32Array(200);

    // Execute
    const bytes = encodeUpdate(values, "int4");

    // Assert
    expect(toHex(bytes.subarray(12, 16))).toBe("80000000");
    expect(bytes.length).toBe(16 + (4 + 64) + (4 + 36) + 32);
  });

  it.each([1, 7, 64])("keeps every error within half a scale when rounding to nearest (chunk size %i)", (chunkSize) => {
    // Prepare
    const values = seededValues(1000, chunkSize, 3);

    // Execute
    const worst = worstErrorInScales(values, chunkSize);

    // Assert
    expect(worst).toBeLessThanOrEqual(0.5);
  });

  it.each([1, 7, 64])("keeps every error under one scale when rounding stochastically (chunk size %i)", (chunkSize) => {
    // Prepare
    const values = seededValues(1000, chunkSize, 3);

    // Execute
    const worst = worstErrorInScales(values, chunkSize, seededRandom(chunkSize));

    // Assert
    expect(worst).toBeLessThan(1);
  });

  it("rounds stochastically without bias, which round-to-nearest does not", () => {
    // Prepare: a chunk of 64 and 2,000 encodings. A correct encoder has each |z| above 5 with
    // probability 64 × 5.7e-7 ≈ 4e-5 and the summed |z| above 4 with probability 6e-5.
    const values = chunkRoundedTowardsZero(64, 7, 0.0123);

    // Execute
    const stochastic = roundingBias(values, "int4", 2000, seededRandom(1));
    const nearest = roundingBias(values, "int4", 2000, undefined);

    // Assert
    expect(stochastic.worst).toBeLessThanOrEqual(5);
    expect(stochastic.overall).toBeLessThanOrEqual(4);
    expect(nearest.overall).toBeGreaterThan(4);
  });

  it("encodes the same bytes from the same seed", () => {
    // Prepare
    const values = seededValues(500, 3, 2);

    // Execute
    const first = encodeUpdate(values, "int4", { rng: seededRandom(42) });
    const second = encodeUpdate(values, "int4", { rng: seededRandom(42) });
    const other = encodeUpdate(values, "int4", { rng: seededRandom(43) });

    // Assert
    expect(second).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it.each([
    ["to nearest", undefined],
    ["stochastically, with draws of 0, which round every fraction up", () => 0],
  ])("keeps the bound for magnitudes at both ends of the float32 range, rounding %s", (_name, rng) => {
    // Prepare
    const huge = new Float32Array([FLOAT32_MAX, -FLOAT32_MAX, 1e38, -3e37]);
    // 10 × 2^-149 over 7 is subnormal and rounds down to 2^-149, which would need code 10.
    const tiny = new Float32Array([1e-45, -3e-45, 10 * 2 ** -149]);
    const smallest = new Float32Array([-1.1754943508222875e-38, 7e-40, 1.3e-43]);
    const bound = rng === undefined ? 0.5 : 1;

    // Execute
    const worstHuge = worstErrorInScales(huge, 4, rng);
    const worstTiny = worstErrorInScales(tiny, 3, rng);
    const worstSmallest = worstErrorInScales(smallest, 3, rng);
    const decodedHuge = decodeUpdate(encodeUpdate(huge, "int4", { rng })).values;

    // Assert
    expect(worstHuge).toBeLessThanOrEqual(bound);
    expect(worstTiny).toBeLessThanOrEqual(bound);
    expect(worstSmallest).toBeLessThanOrEqual(bound);
    expect(Array.from(decodedHuge.subarray(0, 2))).toEqual([FLOAT32_MAX, -FLOAT32_MAX]);
  });

  it("encodes an all-zero vector as zero scales and zero codes, and decodes it to zeros", () => {
    // Prepare
    const values = new Float32Array([0, -0, 0, 0, 0]);

    // Execute
    const bytes = encodeUpdate(values, "int4", { chunkSize: 2, rng: seededRandom(1) });
    const decoded = decodeUpdate(bytes).values;

    // Assert
    expect(toHex(bytes.subarray(16, bytes.length - 32))).toBe("00".repeat(3 * 4 + 3));
    expect(Array.from(decoded)).toEqual([0, 0, 0, 0, 0]);
  });

  it.each([
    [1, 64, 4 + 1],
    [63, 64, 4 + 32],
    [64, 64, 4 + 32],
    [65, 64, 2 * 4 + 32 + 1],
    [129, 64, 3 * 4 + 64 + 1],
    [10, 3, 4 * 4 + 3 * 2 + 1],
    [10, 1, 10 * 5],
    [11, 4, 3 * 4 + 2 * 2 + 2],
  ])("handles %i values in chunks of %i in %i payload bytes", (length, chunkSize, payloadBytes) => {
    // Prepare
    const values = seededValues(length, length + chunkSize);

    // Execute
    const bytes = encodeUpdate(values, "int4", { chunkSize });
    const decoded = decodeUpdate(bytes, { length, codec: "int4" }).values;

    // Assert
    expect(bytes.length).toBe(16 + payloadBytes + 32);
    expect(bytes.length).toBe(encodedSize(length, "int4", { chunkSize }));
    expect(worstErrorInScales(values, chunkSize)).toBeLessThanOrEqual(0.5);
    expect(decoded.length).toBe(length);
  });

  it.each([
    [0, "int4 chunk size must be an integer from 1 to 4294967295, got 0"],
    [1.5, "int4 chunk size must be an integer from 1 to 4294967295, got 1.5"],
    [2 ** 32, "int4 chunk size must be an integer from 1 to 4294967295, got 4294967296"],
  ])("rejects chunk size %s", (chunkSize, message) => {
    // Prepare
    const values = new Float32Array(4);

    // Execute
    const error = failure(() => encodeUpdate(values, "int4", { chunkSize }));

    // Assert
    expect(error).toEqual({ name: "ConfigError", code: "INVALID_CONFIG", message });
  });

  it.each([
    ["NaN", "0000c07f", "update chunk 1 has scale NaN"],
    ["Infinity", "0000807f", "update chunk 1 has scale Infinity"],
  ])("rejects a chunk whose scale is %s", (_name, scale, message) => {
    // Prepare: 3 values in chunks of 2; the second chunk's scale is not finite.
    const bytes = sealed("434e534c" + "01040000" + "03000000" + "02000000" + "0000803f" + "77" + scale + "01");

    // Execute
    const error = failure(() => decodeUpdate(bytes));

    // Assert
    expect(error).toEqual({ name: "UpdateFormatError", code: "NON_FINITE", message });
  });

  it("rejects a code that decodes past the float32 range, and accepts the largest scale the encoder writes", () => {
    // Prepare: the encoder's largest scale (0x7e124924) times code 7 is the float32 maximum; times
    // -8 (nibble 0x8, never written by the encoder) it overflows.
    const overflowing = sealed("434e534c" + "01040000" + "02000000" + "02000000" + "2449127e" + "87");
    const atTheEdge = sealed("434e534c" + "01040000" + "02000000" + "02000000" + "2449127e" + "97");

    // Execute
    const error = failure(() => decodeUpdate(overflowing));
    const decoded = decodeUpdate(atTheEdge).values;

    // Assert
    expect(error).toEqual({
      name: "UpdateFormatError",
      code: "NON_FINITE",
      message: "update value at index 1 decodes to -Infinity (scale 4.861176380550412e+37 × code -8)",
    });
    expect(Array.from(decoded)).toEqual([FLOAT32_MAX, -FLOAT32_MAX]);
  });

  it("decodes code -8 under an ordinary scale, and ignores the padding nibble", () => {
    // Prepare: 3 values in one chunk of 3, scale 0.5, codes -8 and 1, then 2 with padding 0xf.
    const bytes = sealed("434e534c" + "01040000" + "03000000" + "03000000" + "0000003f" + "18" + "f2");

    // Execute
    const decoded = decodeUpdate(bytes).values;

    // Assert
    expect(Array.from(decoded)).toEqual([-4, 0.5, 1]);
  });
});
