import { describe, expect, it } from "vitest";
import { seededRandom } from "../model/init-params.ts";
import { decodeUpdate } from "./decode-update.ts";
import { decodeUpdateInto } from "./decode-update-into.ts";
import { eliasFanoBytes } from "./elias-fano.ts";
import { encodeUpdate } from "./encode-update.ts";
import { encodedSize } from "./encoded-size.ts";
import { topKIndices } from "./top-k-indices.ts";
import { SPARSE_CHUNK } from "./top-k.ts";
import { failure, fromHex, sealed, seededValues, toHex } from "./testing.ts";

/** The golden vector: 13 values, of which fraction 0.3 keeps 4. */
const values = new Float32Array([0.5, -0.875, 0, 0.25, 0.125, -0.0625, 1, 0, 0, 0.03125, -0.75, 0.3, 0]);

/**
 * Largest |decoded - value| over the kept coordinates, in halves of their chunk's scale (at most
 * 1 to nearest, under 2 stochastically, up to float32 rounding), and whether every dropped one
 * decoded to exactly 0.
 */
function keptErrors(input: Float32Array, fraction: number, rng?: () => number): { worst: number; droppedZero: boolean; kept: Uint32Array } {
  const bytes = encodeUpdate(input, "topk-int8", { fraction, rng });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const k = view.getUint32(12, true);
  const kept = topKIndices(input, k);
  const decoded = decodeUpdate(bytes).values;
  const scalesAt = 16 + eliasFanoBytes(input.length, k);
  let worst = 0;
  kept.forEach((i, j) => {
    const scale = view.getFloat32(scalesAt + Math.floor(j / SPARSE_CHUNK) * (4 + SPARSE_CHUNK), true);
    const error = Math.abs(decoded[i]! - input[i]!) - Math.abs(input[i]!) * 2 ** -24;
    worst = Math.max(worst, scale === 0 ? (error <= 0 ? 0 : Infinity) : error / (scale / 2));
  });
  const isKept = new Set(kept);
  const droppedZero = decoded.every((v, i) => isKept.has(i) || v === 0);
  return { worst, droppedZero, kept };
}

/** The golden chunk's scale: 1 / 127 rounded up to float32, so that no code passes 127. */
const SCALE = new DataView(fromHex("0502013c").buffer).getFloat32(0, true);

const HEADER = "434e534c" + "01050000" + "0d000000" + "04000000";
const LOW = "02";
const HIGH = "2301";
const VALUES = "0502013c" + "3f917fa1";

describe("topk-int8 codec", () => {
  it("encodes a fixed vector to golden bytes", () => {
    // Execute
    const bytes = encodeUpdate(values, "topk-int8", { fraction: 0.3 });

    // Assert
    expect(toHex(bytes)).toBe(
      "434e534c" + // magic "CNSL"
        "01" + // format version
        "05" + // codec id: topk-int8
        "0000" + // reserved
        "0d000000" + // 13 values
        "04000000" + // k = ceil(0.3 × 13) = 4 kept: 1 at 6, -0.875 at 1, -0.75 at 10, 0.5 at 0
        // Elias–Fano, L = floor(log2(13 / 4)) = 1. Coordinates 0, 1, 6, 10: low bits 0, 1, 0, 0
        // (0b0010); high parts 0, 0, 3, 5 plus entry numbers 0..3 set bits 0, 1, 5, 8 of
        // 4 + ceil(13 / 2) = 11 (0b00100011, 0b00000001).
        "02" +
        "2301" +
        "0502013c" + // one chunk of kept values: scale 1 / 127, rounded up to float32
        "3f917fa1" + // codes 63 (0.5 is just under 63.5 scales), -111, 127, -95
        "97d38e9db5baf3ca39fdfb98826be070d940280b152bd4f87bdbd37bbdcc6bbb", // SHA-256 of the above
    );
    expect(Array.from(decodeUpdate(bytes).values)).toEqual([63, -111, 0, 0, 0, 0, 127, 0, 0, 0, -95, 0, 0].map((code) => Math.fround(SCALE * code)));
  });

  it.each([0.01, 0.1, 0.5, 1])("keeps the top coordinates within half a scale and decodes the rest to 0 (fraction %f)", (fraction) => {
    // Prepare
    const input = seededValues(5000, 3, 2);

    // Execute
    const { worst, droppedZero, kept } = keptErrors(input, fraction);

    // Assert
    expect(kept.length).toBe(Math.ceil(fraction * 5000));
    expect(worst).toBeLessThanOrEqual(1);
    expect(droppedZero).toBe(true);
  });

  it("keeps the top coordinates under one scale when rounding stochastically", () => {
    // Prepare
    const input = seededValues(5000, 4, 2);

    // Execute
    const { worst, droppedZero } = keptErrors(input, 0.2, seededRandom(5));

    // Assert
    expect(worst).toBeLessThan(2);
    expect(droppedZero).toBe(true);
  });

  it("makes 1M values at fraction 0.1 24.03 times smaller than float32", () => {
    // Prepare: 37,500 + 28,125 index bytes, 100,000 codes and 196 scales, header and checksum.
    const input = seededValues(1_000_000, 1);

    // Execute
    const bytes = encodeUpdate(input, "topk-int8", { fraction: 0.1 });

    // Assert
    expect(bytes.length).toBe(16 + 37_500 + 28_125 + 100_000 + 196 * 4 + 32);
    expect(encodedSize(1_000_000, "float32") / bytes.length).toBeCloseTo(24.0305, 4);
  });

  it("adds only the kept coordinates when accumulating", () => {
    // Prepare
    const bytes = encodeUpdate(values, "topk-int8", { fraction: 0.3 });
    const out = Float32Array.from({ length: 13 }, (_, i) => i);

    // Execute
    decodeUpdateInto(bytes, out, 2);

    // Assert
    const kept = new Map([[0, 63], [1, -111], [6, 127], [10, -95]]);
    expect(Array.from(out)).toEqual(Array.from({ length: 13 }, (_, i) => Math.fround(i + 2 * Math.fround(SCALE * (kept.get(i) ?? 0)))));
  });

  it.each([
    ["entries out of order", "01", "2301", "update keeps coordinate 0 as its entry 1, after coordinate 1: kept coordinates must be strictly increasing"],
    ["a repeated coordinate", "06", "0701", "update keeps coordinate 1 as its entry 2, after coordinate 1: kept coordinates must be strictly increasing"],
    ["a coordinate past the last", "0a", "2302", "update keeps coordinate 13 as its entry 3, but it has only 13 values"],
    ["too few coordinates", LOW, "2300", "update's index bits hold 3 kept coordinates, its header says 4"],
    ["too many coordinates", LOW, "2303", "update's index bits hold more than 4 kept coordinates, its header says 4"],
    ["a set padding bit after the high bits", LOW, "2309", "update's index bits have non-zero padding after the high bits"],
    ["a set padding bit after the low bits", "12", HIGH, "update's index bits have non-zero padding after the low bits"],
  ])("rejects %s with BAD_INDICES before touching out", (_name, low, high, message) => {
    // Prepare: low 0x01 reads 1, 0, 6, 10; 0x06 with high bits 0, 1, 2, 8 reads 0, 1, 1, 10; 0x0a
    // with high bits 0, 1, 5, 9 reads 0, 1, 6, 13.
    const bytes = sealed(HEADER + low + high + VALUES);
    const out = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);

    // Execute
    const error = failure(() => decodeUpdateInto(bytes, out, 1));

    // Assert
    expect(error).toEqual({ name: "UpdateFormatError", code: "BAD_INDICES", message });
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  });

  it("rejects a kept value chunk whose scale is NaN with NON_FINITE", () => {
    // Prepare
    const bytes = sealed(HEADER + LOW + HIGH + "0000c07f" + "3f917fa1");

    // Execute
    const error = failure(() => decodeUpdate(bytes));

    // Assert
    expect(error).toEqual({ name: "UpdateFormatError", code: "NON_FINITE", message: "update's kept values: chunk 0 has scale NaN" });
  });

  it("rejects a header that keeps more coordinates than the update has", () => {
    // Prepare
    const bytes = sealed("434e534c" + "01050000" + "0d000000" + "0e000000" + "00".repeat(8));

    // Execute
    const error = failure(() => decodeUpdate(bytes));

    // Assert
    expect(error).toEqual({ name: "UpdateFormatError", code: "BAD_HEADER", message: "update header is invalid: topk-int8 keeps 0 to 13 of its 13 values, got 14" });
  });
});

describe("topk-float16 codec", () => {
  it("encodes a fixed vector to golden bytes", () => {
    // Execute
    const bytes = encodeUpdate(values, "topk-float16", { fraction: 0.3 });

    // Assert
    expect(toHex(bytes)).toBe(
      "434e534c" + "01" + "07" + "0000" + "0d000000" + "04000000" + // codec id 7, 13 values, 4 kept
        "02" + "2301" + // the same Elias–Fano bits as topk-int8's
        "0038" + "00bb" + "003c" + "00ba" + // binary16 0.5, -0.875, 1, -0.75
        "1a9666f73652239be332bca836141c7d7d48f6bd4d422e6a46992a889d5399a3", // SHA-256 of the above
    );
    expect(Array.from(decodeUpdate(bytes).values)).toEqual([0.5, -0.875, 0, 0, 0, 0, 1, 0, 0, 0, -0.75, 0, 0]);
  });

  it("rejects a kept value that is infinite", () => {
    // Prepare
    const bytes = sealed("434e534c" + "01070000" + "0d000000" + "04000000" + LOW + HIGH + "0038" + "00bb" + "007c" + "00ba");

    // Execute
    const error = failure(() => decodeUpdate(bytes));

    // Assert
    expect(error).toEqual({ name: "UpdateFormatError", code: "NON_FINITE", message: "update's kept values: value at index 2 is Infinity" });
  });
});
