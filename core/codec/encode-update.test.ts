import { describe, expect, it } from "vitest";
import { CodecName } from "./codec-name.ts";
import { encodeUpdate } from "./encode-update.ts";
import { failure } from "../../test/support/codec.ts";

describe("encodeUpdate", () => {
  it.each(CodecName.options.flatMap((codec) => [
    [codec, Number.NaN, "value at index 2 is NaN, only finite values can be encoded"],
    [codec, Number.POSITIVE_INFINITY, "value at index 2 is Infinity, only finite values can be encoded"],
    [codec, Number.NEGATIVE_INFINITY, "value at index 2 is -Infinity, only finite values can be encoded"],
  ] as const))("rejects non-finite input (%s, %s)", (codec, bad, message) => {
    // Prepare
    const values = new Float32Array([1, 2, bad, 4]);

    // Execute
    const error = failure(() => encodeUpdate(values, codec));

    // Assert
    expect(error).toEqual({ name: "UpdateFormatError", code: "NON_FINITE", message });
  });

  it("ignores chunkSize for float32, which has no parameter", () => {
    // Prepare
    const values = new Float32Array([1, 2]);

    // Execute
    const withOption = encodeUpdate(values, "float32", { chunkSize: 16 });

    // Assert
    expect(withOption).toEqual(encodeUpdate(values, "float32"));
  });
});
