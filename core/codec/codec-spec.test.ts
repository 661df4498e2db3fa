import { describe, expect, it } from "vitest";
import { issuesOf } from "../../test/support/schemas.ts";
import { CodecSpec, CodecSpecText, formatCodecSpec } from "./codec-spec.ts";

describe("CodecSpec", () => {
  it.each([
    ["float32", { name: "float32" }],
    ["float16", { name: "float16" }],
    ["int8", { name: "int8" }],
    ["int4", { name: "int4" }],
    ["int8:64", { name: "int8", chunkSize: 64 }],
    ["int4:7", { name: "int4", chunkSize: 7 }],
    ["topk:0.1+int8", { name: "topk-int8", fraction: 0.1 }],
    ["topk:1+float16", { name: "topk-float16", fraction: 1 }],
    ["randk:.25+int8", { name: "randk-int8", fraction: 0.25 }],
    ["topk:1e-3+int8", { name: "topk-int8", fraction: 0.001 }],
  ])("parses %s", (text, spec) => {
    // Execute
    const parsed = CodecSpec.parse(text);

    // Assert
    expect(parsed).toEqual(spec);
  });

  const expected = "float32, float16, int8[:CHUNK], int4[:CHUNK], topk:FRACTION+int8, topk:FRACTION+float16 or randk:FRACTION+int8";
  it.each([
    ["gzip", `unknown codec "gzip": expected ${expected}`],
    ["", `unknown codec "": expected ${expected}`],
    ["topk-int8", `unknown codec "topk-int8": expected ${expected}`],
    ["int8+int8", `unknown codec "int8+int8": expected ${expected}`],
    ["topk:0.1+int8+int8", `unknown codec "topk:0.1+int8+int8": expected ${expected}`],
    ["topk:0.1", 'codec "topk:0.1": expected topk:FRACTION+VALUES, e.g. topk:0.1+int8'],
    ["randk+int8", 'codec "randk+int8": expected randk:FRACTION+VALUES, e.g. randk:0.1+int8'],
    ["topk:0+int8", 'codec "topk:0+int8": the fraction must be a number in (0, 1], got "0"'],
    ["topk:1.5+int8", 'codec "topk:1.5+int8": the fraction must be a number in (0, 1], got "1.5"'],
    ["topk:0x1+int8", 'codec "topk:0x1+int8": the fraction must be a number in (0, 1], got "0x1"'],
    ["topk:0.1+int4", 'codec "topk:0.1+int4": topk takes int8 or float16 values, not "int4"'],
    ["randk:0.1+float16", 'codec "randk:0.1+float16": randk takes int8 values, not "float16"'],
    ["topk:0.1+int8:64", 'codec "topk:0.1+int8:64": sparse codecs keep a fixed chunk size, remove ":64"'],
    ["float32:4", 'codec "float32:4": float32 takes no chunk size'],
    ["int8:0", 'codec "int8:0": the chunk size must be an integer from 1 to 4294967295, got "0"'],
    ["int8:1.5", 'codec "int8:1.5": the chunk size must be an integer from 1 to 4294967295, got "1.5"'],
  ])("rejects %j", (text, message) => {
    // Execute and Assert
    expect(issuesOf(CodecSpec, text)).toEqual([["", message]]);
  });

  it.each(["float32", "int8", "int8:64", "topk:0.1+int8", "topk:0.5+float16", "randk:0.01+int8"])("spells %s canonically, and reads it back", (text) => {
    // Execute
    const canonical = CodecSpecText.parse(text);

    // Assert
    expect(canonical).toBe(text);
    expect(CodecSpec.parse(formatCodecSpec(CodecSpec.parse(text)))).toEqual(CodecSpec.parse(text));
  });

  it("spells a fraction the same however it was written", () => {
    // Execute
    const spellings = ["topk:.10+int8", "topk:0.100+int8", "topk:1e-1+int8"].map((text) => CodecSpecText.parse(text));

    // Assert
    expect(spellings).toEqual(["topk:0.1+int8", "topk:0.1+int8", "topk:0.1+int8"]);
  });
});
