import { describe, expect, it } from "vitest";
import { decodeUpdate } from "./decode-update.ts";
import { encodeUpdate } from "./encode-update.ts";
import { seededValues, toHex } from "../../test/support/codec.ts";

describe("float32 codec", () => {
  it("encodes a fixed vector to golden bytes", () => {
    // Prepare
    const values = new Float32Array([1, -2, 0.5]);

    // Execute
    const bytes = encodeUpdate(values, "float32");

    // Assert
    expect(toHex(bytes)).toBe(
      "434e534c" + // magic "CNSL"
        "01" + // format version
        "01" + // codec id: float32
        "0000" + // reserved
        "03000000" + // 3 values
        "00000000" + // no codec parameter
        "0000803f" + "000000c0" + "0000003f" + // 1, -2, 0.5
        "6e75f1da197e5088c578a5b199442d2db9cdeb733e8929e74e24da6929f93af2", // SHA-256 of the above
    );
  });

  it("round-trips every float32 bit pattern it is given, including -0 and subnormals", () => {
    // Prepare
    const edges = [0, -0, 1e-45, -1e-45, 1.1754943508222875e-38, 3.4028234663852886e38, -3.4028234663852886e38];
    const values = new Float32Array([...edges, ...seededValues(1000, 7, 1e3)]);

    // Execute
    const { codec, values: decoded } = decodeUpdate(encodeUpdate(values, "float32"));

    // Assert
    expect(codec).toBe("float32");
    expect(toHex(new Uint8Array(decoded.buffer))).toBe(toHex(new Uint8Array(values.buffer)));
    expect(Object.is(decoded[1], -0)).toBe(true);
  });
});
