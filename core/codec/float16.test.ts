import { describe, expect, it } from "vitest";
import { decodeUpdate } from "./decode-update.ts";
import { encodeUpdate } from "./encode-update.ts";
import { failure, sealed, seededValues, toHex } from "../../test/support/codec.ts";

const FLOAT32_MAX = 3.4028234663852886e38;

/** The binary16 patterns `encodeUpdate` writes for `values`. */
function halfBits(values: Float32Array): number[] {
  const bytes = encodeUpdate(values, "float16");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from(values, (_, i) => view.getUint16(16 + 2 * i, true));
}

/** Reference value of a finite positive binary16 pattern, from the standard's definition. */
function halfValue(bits: number): number {
  const exponent = bits >>> 10;
  const mantissa = bits & 0x3ff;
  return exponent === 0 ? mantissa * 2 ** -24 : (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

describe("float16 codec", () => {
  it("encodes a fixed vector to golden bytes, saturating past the range and keeping a subnormal", () => {
    // Prepare
    const values = new Float32Array([1, -2, 0.5, 65504, 1e6, -1e6, 6e-8, 0]);

    // Execute
    const bytes = encodeUpdate(values, "float16");

    // Assert
    expect(toHex(bytes)).toBe(
      "434e534c" + // magic "CNSL"
        "01" + // format version
        "03" + // codec id: float16
        "0000" + // reserved
        "08000000" + // 8 values
        "00000000" + // no codec parameter
        "003c" + // 1: exponent 15 (bias 15), mantissa 0 -> 0x3c00
        "00c0" + // -2: sign, exponent 16 -> 0xc000
        "0038" + // 0.5: exponent 14 -> 0x3800
        "ff7b" + // 65504 = (2 - 2^-10) * 2^15, the largest finite: exponent 30, mantissa 0x3ff -> 0x7bff
        "ff7b" + // 1e6 saturates to 65504 instead of becoming Infinity (0x7c00)
        "fffb" + // -1e6 saturates to -65504
        "0100" + // 6e-8 = 1.0066 * 2^-24: subnormal, 1 unit of 2^-24 -> 0x0001
        "0000" + // 0
        "e869cd79118c7b082d7f4160d7019cc0bf95504688be8ea732370470bcc8d0d6", // SHA-256 of the above
    );
  });

  it.each([
    ["1 + 2^-11, a tie, to the even 1", 1 + 2 ** -11, 0x3c00],
    ["1 + 3 * 2^-11, a tie, to the even 1 + 2^-9", 1 + 3 * 2 ** -11, 0x3c02],
    ["just above the tie 1 + 2^-11, up", 1 + 2 ** -11 + 2 ** -23, 0x3c01],
    ["2 - 2^-11, a tie, up across the binade to 2", 2 - 2 ** -11, 0x4000],
    ["65519, below halfway past the range, to 65504", 65519, 0x7bff],
    ["65520, which would round to Infinity, saturated", 65520, 0x7bff],
    ["the float32 maximum, saturated", FLOAT32_MAX, 0x7bff],
    ["-65520, saturated", -65520, 0xfbff],
    ["2^-14, the smallest normal", 2 ** -14, 0x0400],
    ["2^-14 - 2^-25, a subnormal tie, up to the smallest normal", 2 ** -14 - 2 ** -25, 0x0400],
    ["2^-24, the smallest subnormal", 2 ** -24, 0x0001],
    ["-2^-24", -(2 ** -24), 0x8001],
    ["3 * 2^-25, a subnormal tie, to the even 2 units", 3 * 2 ** -25, 0x0002],
    ["2^-25, a tie, to the even 0", 2 ** -25, 0x0000],
    ["just above 2^-25, up", 2 ** -25 + 2 ** -40, 0x0001],
    ["the smallest float32 subnormal, to 0", 1e-45, 0x0000],
    ["a tiny negative value, to -0", -1e-45, 0x8000],
    ["-0", -0, 0x8000],
  ])("rounds %s", (_name, value, bits) => {
    // Execute
    const [encoded] = halfBits(new Float32Array([value]));

    // Assert
    expect(encoded?.toString(16)).toBe(bits.toString(16));
  });

  it("round-trips every finite binary16 value, both signs, bit for bit", () => {
    // Prepare: every pattern but the all-ones exponent (Infinity, NaN).
    const patterns = Array.from({ length: 0x10000 }, (_, bits) => bits).filter((bits) => (bits & 0x7c00) !== 0x7c00);
    const values = Float32Array.from(patterns, (bits) => (bits & 0x8000 ? -halfValue(bits & 0x7fff) : halfValue(bits)));

    // Execute
    const encoded = halfBits(values);
    const decoded = decodeUpdate(encodeUpdate(values, "float16")).values;

    // Assert
    expect(encoded).toEqual(patterns);
    expect(toHex(new Uint8Array(decoded.buffer))).toBe(toHex(new Uint8Array(values.buffer)));
  });

  it("rounds every midpoint between neighbouring binary16 values to the even one, and one float32 off it to the nearer", () => {
    // Prepare: midpoints need 12 significant bits, so float32 holds them and their neighbours exactly.
    const lower = Array.from({ length: 0x7bff }, (_, bits) => bits);
    const midpoints = Float32Array.from(lower, (bits) => (halfValue(bits) + halfValue(bits + 1)) / 2);
    const below = midpoints.map((m) => nextFloat32(m, -1));
    const above = midpoints.map((m) => nextFloat32(m, 1));

    // Execute
    const atMidpoints = halfBits(midpoints);
    const belowMidpoints = halfBits(below);
    const aboveMidpoints = halfBits(above);

    // Assert
    expect(atMidpoints).toEqual(lower.map((bits) => (bits % 2 === 0 ? bits : bits + 1)));
    expect(belowMidpoints).toEqual(lower);
    expect(aboveMidpoints).toEqual(lower.map((bits) => bits + 1));
  });

  it.each([-24, -14, -8, 0, 8, 15])("keeps the error within 2^-11 relative (normals) or 2^-25 absolute (subnormals) up to 2^%i", (exponent) => {
    // Prepare
    const values = seededValues(10_000, exponent + 100, 2 ** exponent);

    // Execute
    const decoded = decodeUpdate(encodeUpdate(values, "float16")).values;

    // Assert: subnormals (below 2^-14) are bounded in absolute terms, by half a unit of 2^-24.
    let worstRelative = 0;
    let worstSubnormal = 0;
    values.forEach((value, i) => {
      const error = Math.abs(decoded[i]! - value);
      if (Math.abs(value) >= 2 ** -14) worstRelative = Math.max(worstRelative, error / Math.abs(value));
      else worstSubnormal = Math.max(worstSubnormal, error);
    });
    expect(worstRelative).toBeLessThanOrEqual(2 ** -11);
    expect(worstSubnormal).toBeLessThanOrEqual(2 ** -25);
  });

  it.each([
    ["007c", "update value at index 1 is Infinity"],
    ["00fc", "update value at index 1 is -Infinity"],
    ["007e", "update value at index 1 is NaN"],
    ["01fc", "update value at index 1 is NaN"],
  ])("rejects the non-finite pattern %s (little-endian)", (pattern, message) => {
    // Prepare: 2 values, 1 then the pattern (little-endian).
    const bytes = sealed("434e534c" + "01030000" + "02000000" + "00000000" + "003c" + pattern);

    // Execute
    const error = failure(() => decodeUpdate(bytes));

    // Assert
    expect(error).toEqual({ name: "UpdateFormatError", code: "NON_FINITE", message });
  });

  it("decodes the largest finite patterns, which it accepts", () => {
    // Prepare
    const bytes = sealed("434e534c" + "01030000" + "02000000" + "00000000" + "ff7b" + "fffb");

    // Execute
    const decoded = decodeUpdate(bytes).values;

    // Assert
    expect(Array.from(decoded)).toEqual([65504, -65504]);
  });

  it("rejects a codec parameter", () => {
    // Prepare
    const bytes = sealed("434e534c" + "01030000" + "01000000" + "01000000" + "003c");

    // Execute
    const error = failure(() => decodeUpdate(bytes));

    // Assert
    expect(error).toEqual({
      name: "UpdateFormatError",
      code: "BAD_HEADER",
      message: "update header is invalid: float16 takes no codec parameter, got 1",
    });
  });
});

/** The float32 after `x` (positive), towards +∞ (`step` 1) or 0 (-1). */
function nextFloat32(x: number, step: 1 | -1): number {
  const bits = new Float32Array([x]);
  const word = new Uint32Array(bits.buffer);
  word[0] = word[0]! + step;
  return bits[0]!;
}
