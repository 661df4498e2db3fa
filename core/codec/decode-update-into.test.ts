import { describe, expect, it } from "vitest";
import { seededRandom } from "../random.ts";
import { decodeUpdate } from "./decode-update.ts";
import { decodeUpdateInto } from "./decode-update-into.ts";
import { encodeUpdate } from "./encode-update.ts";
import { axpy, failure, sealed, seededValues } from "../../test/support/codec.ts";

describe("decodeUpdateInto", () => {
  it("sums several weighted updates exactly as decode then axpy does", () => {
    // Prepare
    const length = 700;
    const updates = [
      { bytes: encodeUpdate(seededValues(length, 1), "float32"), weight: 0.5 },
      { bytes: encodeUpdate(seededValues(length, 2), "int8"), weight: 0.3 },
      { bytes: encodeUpdate(seededValues(length, 3, 10), "int8", { chunkSize: 64 }), weight: 0.2 },
      { bytes: encodeUpdate(seededValues(length, 6, 3), "float16"), weight: 0.15 },
      { bytes: encodeUpdate(seededValues(length, 7, 3), "int4", { chunkSize: 33, rng: seededRandom(8) }), weight: 0.1 },
    ];
    const expected = seededValues(length, 4);
    const actual = expected.slice();

    // Execute
    for (const { bytes, weight } of updates) axpy(expected, weight, decodeUpdate(bytes).values);
    const codecs = updates.map(({ bytes, weight }) => decodeUpdateInto(bytes, actual, weight));

    // Assert
    expect(codecs).toEqual(["float32", "int8", "int8", "float16", "int4"]);
    expect(actual).toEqual(expected);
  });

  it.each([
    [
      "float32",
      sealed("434e534c" + "01010000" + "03000000" + "00000000" + "0000803f" + "0000803f" + "0000c07f"),
      "update value at index 2 is NaN",
    ],
    [
      "int8",
      sealed("434e534c" + "01020000" + "03000000" + "02000000" + "0000803f" + "7f7f" + "0000c07f" + "7f"),
      "update chunk 1 has scale NaN",
    ],
    [
      "float16",
      sealed("434e534c" + "01030000" + "03000000" + "00000000" + "003c" + "003c" + "007c"),
      "update value at index 2 is Infinity",
    ],
    [
      "int4",
      sealed("434e534c" + "01040000" + "03000000" + "02000000" + "0000803f" + "77" + "0000c07f" + "07"),
      "update chunk 1 has scale NaN",
    ],
  ])("leaves out untouched when a %s update is rejected late", (_codec, bytes, message) => {
    // Prepare
    const out = new Float32Array([5, 6, 7]);

    // Execute
    const error = failure(() => decodeUpdateInto(bytes, out, 1));

    // Assert
    expect(error).toEqual({ name: "UpdateFormatError", code: "NON_FINITE", message });
    expect(Array.from(out)).toEqual([5, 6, 7]);
  });

  it("expects exactly out.length values", () => {
    // Prepare
    const bytes = encodeUpdate(new Float32Array(12), "float32");
    const out = new Float32Array(14);

    // Execute
    const error = failure(() => decodeUpdateInto(bytes, out, 1));

    // Assert
    expect(error).toEqual({ name: "UpdateFormatError", code: "LENGTH_MISMATCH", message: "update has 12 values, expected 14" });
  });

  it("checks the expected codec", () => {
    // Prepare
    const bytes = encodeUpdate(new Float32Array(3), "int8");

    // Execute
    const error = failure(() => decodeUpdateInto(bytes, new Float32Array(3), 1, { codec: "float32" }));

    // Assert
    expect(error).toEqual({ name: "UpdateFormatError", code: "CODEC_MISMATCH", message: "update uses codec int8, expected float32" });
  });

  it("rejects a non-finite weight", () => {
    // Prepare
    const bytes = encodeUpdate(new Float32Array(3), "float32");

    // Execute
    const error = failure(() => decodeUpdateInto(bytes, new Float32Array(3), Number.NaN));

    // Assert
    expect(error).toEqual({ name: "ConfigError", code: "INVALID_CONFIG", message: "weight must be a finite number, got NaN" });
  });
});
