import { describe, expect, it } from "vitest";
import { seededRandom } from "../random.ts";
import { openContainer } from "./container.ts";
import { decodeUpdate } from "./decode-update.ts";
import { encodeUpdate } from "./encode-update.ts";
import { encodedSize } from "./encoded-size.ts";
import { chunkRoundedTowardsZero, failure, roundingBias, sealed, seededValues, toHex } from "../../test/support/codec.ts";

const FLOAT32_MAX = 3.4028234663852886e38;

/** Scale of each chunk, read from the container so the bound is checked against what was sent. */
function scales(bytes: Uint8Array, length: number, chunkSize: number): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: Math.ceil(length / chunkSize) }, (_, c) => view.getFloat32(16 + c * (4 + chunkSize), true));
}

/**
 * Largest |decoded - value| / (scale / 2) over the vector, up to float32 rounding: at most 1 to
 * nearest, under 2 with stochastic rounding (`rng`).
 */
function worstErrorInHalfScales(values: Float32Array, chunkSize: number, rng?: () => number): number {
  const bytes = encodeUpdate(values, "int8", { chunkSize, rng });
  const decoded = decodeUpdate(bytes).values;
  const chunkScales = scales(bytes, values.length, chunkSize);
  let worst = 0;
  for (let i = 0; i < values.length; i++) {
    const scale = chunkScales[Math.floor(i / chunkSize)]!;
    const error = Math.abs(decoded[i]! - values[i]!);
    // Storing scale × code as float32 adds up to half an ulp of the value on top of scale / 2.
    const allowance = Math.abs(values[i]!) * 2 ** -24;
    worst = Math.max(worst, scale === 0 ? (error === 0 ? 0 : Infinity) : (error - allowance) / (scale / 2));
  }
  return worst;
}

describe("int8 codec", () => {
  it("encodes a fixed vector to golden bytes, with an all-zero chunk and a short last chunk", () => {
    // Prepare
    const values = new Float32Array([1, -0.5, 0, 0, 0.25]);

    // Execute
    const bytes = encodeUpdate(values, "int8", { chunkSize: 2 });

    // Assert
    expect(toHex(bytes)).toBe(
      "434e534c" + // magic "CNSL"
        "01" + // format version
        "02" + // codec id: int8
        "0000" + // reserved
        "05000000" + // 5 values
        "02000000" + // chunk size 2
        "0502013c" + "7f" + "c1" + // scale fround(1/127); codes 127, -63 (0.5 is just under 63.5 scales)
        "00000000" + "00" + "00" + // all-zero chunk: scale 0
        "0502013b" + "7f" + // short last chunk: scale fround(0.25/127); code 127
        "4567e916a185a325e918b45499b4653f2ec71ad921833e1d489e21953385dbb7", // SHA-256 of the above
    );
  });

  it("writes the default chunk size of 256 into the header", () => {
    // Prepare
    const values = new Float32Array(300);

    // Execute
    const bytes = encodeUpdate(values, "int8");

    // Assert
    expect(toHex(bytes.subarray(12, 16))).toBe("00010000");
    expect(bytes.length).toBe(16 + 2 * 4 + 300 + 32);
  });

  it.each([1, 7, 256])("keeps every error within half a scale (chunk size %i)", (chunkSize) => {
    // Prepare
    const values = seededValues(1000, chunkSize, 3);

    // Execute
    const worst = worstErrorInHalfScales(values, chunkSize);

    // Assert
    expect(worst).toBeLessThanOrEqual(1);
  });

  it.each([1, 7, 256])("keeps every error under one scale when rounding stochastically (chunk size %i)", (chunkSize) => {
    // Prepare
    const values = seededValues(1000, chunkSize, 3);

    // Execute
    const worst = worstErrorInHalfScales(values, chunkSize, seededRandom(chunkSize));

    // Assert
    expect(worst).toBeLessThan(2);
  });

  it("rounds stochastically without bias, which round-to-nearest does not", () => {
    // Prepare: a chunk of 128 and 2,000 encodings. A correct encoder has some |z| above 5 with
    // probability 128 × 5.7e-7 ≈ 7e-5 and the summed |z| above 4 with probability 6e-5.
    const values = chunkRoundedTowardsZero(128, 127, 3.7e-4);

    // Execute
    const stochastic = roundingBias(values, "int8", 2000, seededRandom(1));
    const nearest = roundingBias(values, "int8", 2000, undefined);

    // Assert
    expect(stochastic.worst).toBeLessThanOrEqual(5);
    expect(stochastic.overall).toBeLessThanOrEqual(4);
    expect(nearest.overall).toBeGreaterThan(4);
  });

  it("clamps a stochastic round-up past code 127 at the edge of the float32 range instead of wrapping to -128", () => {
    // Prepare: float32's largest value is 127.0000008 of the capped scale; draws of 0 round it up.
    const values = new Float32Array([FLOAT32_MAX, -FLOAT32_MAX]);

    // Execute
    const bytes = encodeUpdate(values, "int8", { chunkSize: 2, rng: () => 0 });

    // Assert
    expect(toHex(bytes.subarray(16, 22))).toBe("0302017c" + "7f81");
    expect(Array.from(decodeUpdate(bytes).values)).toEqual([3.4028232635611926e38, -3.4028232635611926e38]);
  });

  it("keeps the bound for magnitudes at both ends of the float32 range", () => {
    // Prepare
    const huge = new Float32Array([FLOAT32_MAX, -FLOAT32_MAX, 1e38, -3e37]);
    // 190 × 2^-149 over 127 is subnormal and rounds down to 2^-149, which would need code 190.
    const tiny = new Float32Array([1e-45, -3e-45, 190 * 2 ** -149]);
    const smallest = new Float32Array([-1.1754943508222875e-38, 7e-40, 1.3e-43]);

    // Execute
    const worstHuge = worstErrorInHalfScales(huge, 4);
    const worstTiny = worstErrorInHalfScales(tiny, 3);
    const worstSmallest = worstErrorInHalfScales(smallest, 3);
    const decodedHuge = decodeUpdate(encodeUpdate(huge, "int8")).values;

    // Assert
    expect(worstHuge).toBeLessThanOrEqual(1);
    expect(worstTiny).toBeLessThanOrEqual(1);
    expect(worstSmallest).toBeLessThanOrEqual(1);
    expect(decodedHuge.every(Number.isFinite)).toBe(true);
  });

  it("encodes an all-zero vector as zero scales and zero codes, and decodes it to zeros", () => {
    // Prepare
    const values = new Float32Array([0, -0, 0, 0, 0]);

    // Execute
    const bytes = encodeUpdate(values, "int8", { chunkSize: 2 });
    const decoded = decodeUpdate(bytes).values;

    // Assert
    expect(toHex(bytes.subarray(16, bytes.length - 32))).toBe("00".repeat(3 * 4 + 5));
    expect(Array.from(decoded)).toEqual([0, 0, 0, 0, 0]);
  });

  it.each([
    [1, 256],
    [255, 256],
    [257, 256],
    [513, 256],
    [10, 3],
    [10, 1],
  ])("handles %i values in chunks of %i", (length, chunkSize) => {
    // Prepare
    const values = seededValues(length, length + chunkSize);

    // Execute
    const bytes = encodeUpdate(values, "int8", { chunkSize });
    const decoded = decodeUpdate(bytes, { length, codec: "int8" }).values;

    // Assert
    expect(bytes.length).toBe(16 + length + 4 * Math.ceil(length / chunkSize) + 32);
    expect(bytes.length).toBe(encodedSize(length, "int8", { chunkSize }));
    expect(worstErrorInHalfScales(values, chunkSize)).toBeLessThanOrEqual(1);
    expect(decoded.length).toBe(length);
  });

  it.each([
    [0, "int8 chunk size must be an integer from 1 to 4294967295, got 0"],
    [1.5, "int8 chunk size must be an integer from 1 to 4294967295, got 1.5"],
    [2 ** 32, "int8 chunk size must be an integer from 1 to 4294967295, got 4294967296"],
  ])("rejects chunk size %s", (chunkSize, message) => {
    // Prepare
    const values = new Float32Array(4);

    // Execute
    const error = failure(() => encodeUpdate(values, "int8", { chunkSize }));

    // Assert
    expect(error).toEqual({ name: "ConfigError", code: "INVALID_CONFIG", message });
  });

  it("rejects a chunk whose scale is NaN", () => {
    // Prepare: 3 values in chunks of 2; the second chunk's scale is a NaN.
    const bytes = sealed("434e534c" + "01020000" + "03000000" + "02000000" + "0000803f" + "7f7f" + "0000c07f" + "01");

    // Execute
    const error = failure(() => decodeUpdate(bytes));

    // Assert
    expect(error).toEqual({ name: "UpdateFormatError", code: "NON_FINITE", message: "update chunk 1 has scale NaN" });
  });

  it("rejects a code that decodes past the float32 range, and accepts the largest scale the encoder writes", () => {
    // Prepare: the encoder's largest scale (0x7c010203) times code -128 overflows; times ±127 it does not.
    const overflowing = sealed("434e534c" + "01020000" + "02000000" + "02000000" + "0302017c" + "7f80");
    const atTheEdge = sealed("434e534c" + "01020000" + "02000000" + "02000000" + "0302017c" + "7f81");

    // Execute
    const error = failure(() => decodeUpdate(overflowing));
    const decoded = decodeUpdate(atTheEdge).values;

    // Assert
    expect(error).toEqual({
      name: "UpdateFormatError",
      code: "NON_FINITE",
      message: "update value at index 1 decodes to -Infinity (scale 2.6793883890187504e+36 × code -128)",
    });
    expect(Array.from(decoded)).toEqual([3.4028232635611926e38, -3.4028232635611926e38]);
  });

  it("says how large its values are: exactly without a bound, and above a bound exactly when a value is", () => {
    const values = seededValues(1000, 21, 3);
    const bytes = encodeUpdate(values, "int8", { chunkSize: 100 });
    const { codec, payload } = openContainer(bytes);
    const decoded = decodeUpdate(bytes).values;
    const max = decoded.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(codec.largest!(payload, 1000, 100)).toBe(max);
    expect(codec.largest!(payload, 1000, 100, max)).toBeLessThanOrEqual(max);
    expect(codec.largest!(payload, 1000, 100, max * 0.99)).toBeGreaterThan(max * 0.99);
  });
});
