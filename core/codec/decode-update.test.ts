import { describe, expect, it } from "vitest";
import { decodeUpdate } from "./decode-update.ts";
import { encodeUpdate } from "./encode-update.ts";
import type { UpdateExpectations } from "./expect-update.ts";
import { sha256Hex } from "./sha256-hex.ts";
import { failure, fromHex, sealed } from "../../test/support/codec.ts";

/** Header fields as hex, in container order. */
function header(fields: { magic?: string; version?: string; id?: string; reserved?: string; count?: string; param?: string } = {}): string {
  const { magic = "434e534c", version = "01", id = "01", reserved = "0000", count = "02000000", param = "00000000" } = fields;
  return magic + version + id + reserved + count + param;
}

const ONE_TWO = "0000803f" + "00000040";
const KNOWN_IDS = "1 float32, 2 int8, 3 float16, 4 int4, 6 randk-int8, 8 topk-int8, 9 topk-float16";

describe("decodeUpdate", () => {
  it("decodes a crafted float32 container", () => {
    // Prepare
    const bytes = sealed(header() + ONE_TWO);

    // Execute
    const { codec, values } = decodeUpdate(bytes, { length: 2, codec: "float32" });

    // Assert
    expect(codec).toBe("float32");
    expect(Array.from(values)).toEqual([1, 2]);
  });

  it("reads a container that starts at an odd offset inside a larger buffer", () => {
    // Prepare
    const inner = encodeUpdate(new Float32Array([1.5, -3]), "float32");
    const outer = new Uint8Array(inner.length + 7);
    outer.set(inner, 3);

    // Execute
    const { values } = decodeUpdate(outer.subarray(3, 3 + inner.length));

    // Assert
    expect(Array.from(values)).toEqual([1.5, -3]);
  });

  const valid = sealed(header() + ONE_TWO);
  const flipped = valid.slice();
  flipped[20] = flipped[20]! ^ 0x01;
  const cases: [string, string, Uint8Array, UpdateExpectations][] = [
    ["TRUNCATED", "update has 0 bytes, fewer than the 48 of a header and checksum", new Uint8Array(0), {}],
    ["TRUNCATED", "update has 47 bytes, fewer than the 48 of a header and checksum", valid.subarray(0, 47), {}],
    ["BAD_MAGIC", 'update starts with 0x504b0304, not the magic "CNSL"', sealed(header({ magic: "504b0304" }) + ONE_TWO), {}],
    ["UNSUPPORTED_VERSION", "update has format version 2, only 1 is supported", sealed(header({ version: "02" }) + ONE_TWO), {}],
    ["UNKNOWN_CODEC", `update has codec id 10, known ids are ${KNOWN_IDS}`, sealed(header({ id: "0a" }) + ONE_TWO), {}],
    ["UNKNOWN_CODEC", `update has codec id 0, known ids are ${KNOWN_IDS}`, sealed(header({ id: "00" }) + ONE_TWO), {}],
    // Retired: top-k with Elias–Fano positions, int8 and float16 values.
    ["UNKNOWN_CODEC", `update has codec id 5, known ids are ${KNOWN_IDS}`, sealed(header({ id: "05" }) + ONE_TWO), {}],
    ["UNKNOWN_CODEC", `update has codec id 7, known ids are ${KNOWN_IDS}`, sealed(header({ id: "07" }) + ONE_TWO), {}],
    ["BAD_HEADER", "update has reserved field 1, expected 0", sealed(header({ reserved: "0100" }) + ONE_TWO), {}],
    ["BAD_HEADER", "update header is invalid: float32 takes no codec parameter, got 5", sealed(header({ param: "05000000" }) + ONE_TWO), {}],
    ["BAD_HEADER", "update header is invalid: int8 chunk size must be an integer from 1 to 4294967295, got 0", sealed(header({ id: "02" }) + "00000000" + "0000"), {}],
    ["SIZE_MISMATCH", "update has 57 bytes, its header implies 56", sealed(header() + ONE_TWO + "00"), {}],
    ["SIZE_MISMATCH", "update has 52 bytes, its header implies 56", sealed(header() + "0000803f"), {}],
    ["SIZE_MISMATCH", "update has 56 bytes, its header implies 17179869228", sealed(header({ count: "ffffffff" }) + ONE_TWO), {}],
    ["CHECKSUM_MISMATCH", `update checksum is ${sha256Hex(fromHex(header() + ONE_TWO))}, but its contents hash to ${sha256Hex(flipped.subarray(0, 24))}`, flipped, {}],
    ["LENGTH_MISMATCH", "update has 2 values, expected 14", valid, { length: 14 }],
    ["CODEC_MISMATCH", "update uses codec float32, expected int8", valid, { codec: "int8" }],
    ["NON_FINITE", "update value at index 1 is NaN", sealed(header() + "0000803f" + "0000c07f"), {}],
    ["NON_FINITE", "update value at index 0 is Infinity", sealed(header() + "0000807f" + "00000040"), {}],
    ["NON_FINITE", "update value at index 1 is -Infinity", sealed(header() + "0000803f" + "000080ff"), {}],
    ["NON_FINITE", "update chunk 0 has scale Infinity", sealed(header({ id: "02", param: "02000000" }) + "0000807f" + "7f7f"), {}],
  ];

  it.each(cases)("rejects with %s: %s", (code, message, bytes, expected) => {
    // Execute
    const error = failure(() => decodeUpdate(bytes, expected));

    // Assert
    expect(error).toEqual({ name: "UpdateFormatError", code, message });
  });

  it("reports a corrupted update as corrupted before comparing it with expectations", () => {
    // Prepare
    const bytes = flipped;

    // Execute
    const error = failure(() => decodeUpdate(bytes, { length: 14, codec: "int8" }));

    // Assert
    expect(error?.code).toBe("CHECKSUM_MISMATCH");
  });
});
