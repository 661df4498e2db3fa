import { describe, expect, it } from "vitest";
import { seededRandom } from "../random.ts";
import { decodeUpdate } from "./decode-update.ts";
import { decodeUpdateInto } from "./decode-update-into.ts";
import { encodeUpdate } from "./encode-update.ts";
import { encodedSize } from "./encoded-size.ts";
import { subsetBytes } from "./subset-code.ts";
import { topKIndices } from "./top-k-indices.ts";
import { SPARSE_CHUNK } from "./top-k.ts";
import { failure, fromHex, sealed, seededValues, toHex } from "../../test/support/codec.ts";

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
  const scalesAt = 16 + subsetBytes(input.length, k);
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

const HEADER = "434e534c" + "01080000" + "0d000000" + "04000000";
/** Coordinates 0, 1, 6, 10 of 13, enumeratively coded (derived by hand in `subset-code.test.ts`). */
const POSITIONS = "0d40";
const VALUES = "0502013c" + "3f917fa1";

describe("topk-int8 codec", () => {
  it("encodes a fixed vector to golden bytes", () => {
    // Execute
    const bytes = encodeUpdate(values, "topk-int8", { fraction: 0.3 });

    // Assert
    expect(toHex(bytes)).toBe(
      "434e534c" + // magic "CNSL"
        "01" + // format version
        "08" + // codec id: topk-int8
        "0000" + // reserved
        "0d000000" + // 13 values
        "04000000" + // k = ceil(0.3 × 13) = 4 kept: 1 at 6, -0.875 at 1, -0.75 at 10, 0.5 at 0
        // Coordinates 0, 1, 6, 10 as one of the C(13, 4) = 715 subsets: log2 715 = 9.5 bits, in a
        // section of ceil(13 · H2(4 / 13) = 11.6 bits / 8) = 2 bytes.
        "0d40" +
        "0502013c" + // one chunk of kept values: scale 1 / 127, rounded up to float32
        "3f917fa1" + // codes 63 (0.5 is just under 63.5 scales), -111, 127, -95
        "1c2e5dc0b3c9a1e7bba51862554018b19e4a92ea9dd6b21a12f42ec67eb789f8", // SHA-256 of the above
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

  it("makes 1M values at fraction 0.1 25.09 times smaller than float32", () => {
    // Prepare: 58,625 position bytes (4.69 bits per kept coordinate), 100,000 codes and 196
    // scales, header and checksum.
    const input = seededValues(1_000_000, 1);

    // Execute
    const bytes = encodeUpdate(input, "topk-int8", { fraction: 0.1 });

    // Assert
    expect(bytes.length).toBe(16 + 58_625 + 100_000 + 196 * 4 + 32);
    expect(encodedSize(1_000_000, "float32") / bytes.length).toBeCloseTo(25.0854, 4);
  });

  it.each([
    // The benchmark's wdbc MLP, 30 → 1024 → 96 → 1: 130,241 body parameters, 521,012 bytes as
    // float32. k = 13,025: 7,636 position bytes, 13,025 codes under 26 scales. Elias–Fano took
    // 8,549 position bytes, 21,726 in all (23.98×).
    [130_241, 48 + 7_636 + 13_025 + 26 * 4],
    // 130,017 values, the count the README gives for that model, k = 13,002: 7,623 position bytes
    // (Elias–Fano: 8,533, 21,687 in all).
    [130_017, 48 + 7_623 + 13_002 + 26 * 4],
  ])("makes %i values, the benchmark's MLP, at fraction 0.1 at least 25 times smaller than float32", (length, bytes) => {
    // Execute
    const size = encodedSize(length, "topk-int8", { fraction: 0.1 });

    // Assert
    expect(size).toBe(bytes);
    expect(size).toBeLessThanOrEqual(encodedSize(length, "float32") / 25);
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
    ["a last position byte one too high", "0d41"],
    ["a last position byte one too low", "0d3f"],
    ["position bytes of all ones", "ffff"],
  ])("rejects %s with BAD_INDICES before touching out", (_name, positions) => {
    // Prepare
    const bytes = sealed(HEADER + positions + VALUES);
    const out = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);

    // Execute
    const error = failure(() => decodeUpdateInto(bytes, out, 1));

    // Assert
    expect(error).toEqual({ name: "UpdateFormatError", code: "BAD_INDICES", message: "update's position bytes are not the coding of the coordinates they decode to" });
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  });

  it("rejects an update under the retired Elias–Fano id 5 with UNKNOWN_CODEC", () => {
    // Prepare: the old golden update, 13 values of which 4 kept, as id 5 wrote it.
    const bytes = sealed("434e534c" + "01050000" + "0d000000" + "04000000" + "02" + "2301" + VALUES);

    // Execute
    const error = failure(() => decodeUpdate(bytes));

    // Assert
    expect(error).toEqual({
      name: "UpdateFormatError",
      code: "UNKNOWN_CODEC",
      message: "update has codec id 5, known ids are 1 float32, 2 int8, 3 float16, 4 int4, 6 randk-int8, 8 topk-int8, 9 topk-float16",
    });
  });

  it("rejects a kept value chunk whose scale is NaN with NON_FINITE", () => {
    // Prepare
    const bytes = sealed(HEADER + POSITIONS + "0000c07f" + "3f917fa1");

    // Execute
    const error = failure(() => decodeUpdate(bytes));

    // Assert
    expect(error).toEqual({ name: "UpdateFormatError", code: "NON_FINITE", message: "update's kept values: chunk 0 has scale NaN" });
  });

  it("rejects a header that keeps more coordinates than the update has", () => {
    // Prepare
    const bytes = sealed("434e534c" + "01080000" + "0d000000" + "0e000000" + "00".repeat(8));

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
      "434e534c" + "01" + "09" + "0000" + "0d000000" + "04000000" + // codec id 9, 13 values, 4 kept
        "0d40" + // the same position bytes as topk-int8's
        "0038" + "00bb" + "003c" + "00ba" + // binary16 0.5, -0.875, 1, -0.75
        "2ca7cc45548ab4cfdaf2529f2f8dc9fa54311e25cb655b7e5eed77364fac3c82", // SHA-256 of the above
    );
    expect(Array.from(decodeUpdate(bytes).values)).toEqual([0.5, -0.875, 0, 0, 0, 0, 1, 0, 0, 0, -0.75, 0, 0]);
  });

  it("rejects a kept value that is infinite", () => {
    // Prepare
    const bytes = sealed("434e534c" + "01090000" + "0d000000" + "04000000" + POSITIONS + "0038" + "00bb" + "007c" + "00ba");

    // Execute
    const error = failure(() => decodeUpdate(bytes));

    // Assert
    expect(error).toEqual({ name: "UpdateFormatError", code: "NON_FINITE", message: "update's kept values: value at index 2 is Infinity" });
  });
});
