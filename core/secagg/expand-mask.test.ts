import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { addWrapping } from "./add-wrapping.ts";
import { applyMasks } from "./apply-masks.ts";
import { expandMask } from "./expand-mask.ts";
import { CHUNK_WORDS } from "./keystream.ts";
import { maskedBytes, readMasked } from "./masked-bytes.ts";

describe("expandMask", () => {
  it("is the AES-256-CTR keystream read as little-endian u32 (golden: zero key, zero block)", () => {
    // Execute: AES-256(0^256, 0^128) = dc95c078 a2408989 ad48a214 92842087.
    const mask = expandMask(new Uint8Array(32), 4);

    // Assert
    expect([...mask]).toEqual([0x78c095dc, 0x898940a2, 0x14a248ad, 0x87208492]);
  });

  it("gives the same values for a seed whatever the length asked, across chunk boundaries", () => {
    // Prepare
    const seed = new Uint8Array(randomBytes(32));
    const length = 2 * CHUNK_WORDS + 7;

    // Execute
    const long = expandMask(seed, length);
    const short = expandMask(seed, CHUNK_WORDS + 3);

    // Assert
    expect(long.subarray(0, short.length)).toEqual(short);
  });

  it("gives unrelated masks for different seeds, spread uniformly over Z_2^32", () => {
    // Prepare
    const a = expandMask(new Uint8Array(32).fill(1), 100_000);
    const b = expandMask(new Uint8Array(32).fill(2), 100_000);

    // Execute
    let equal = 0;
    let mean = 0;
    let topBits = 0;
    for (let i = 0; i < a.length; i++) {
      if (a[i] === b[i]) equal++;
      mean += a[i]! / a.length;
      topBits += a[i]! >>> 31;
    }

    // Assert: mean 2^31 ± 5 sd (sd of the mean = 2^32/√12/√n ≈ 3.9e6); half the top bits set ± 5 sd.
    expect(equal).toBe(0);
    expect(Math.abs(mean - 2 ** 31)).toBeLessThan(5 * 3.93e6);
    expect(Math.abs(topBits - 50_000)).toBeLessThan(5 * 158);
  });

  it("rejects a seed that is not 32 bytes", () => {
    // Execute / Assert
    expect(() => expandMask(new Uint8Array(16), 4)).toThrow("a mask seed is 32 bytes, got 16");
  });
});

describe("applyMasks", () => {
  it("adds and subtracts expanded masks modulo 2^32, so opposite terms cancel", () => {
    // Prepare
    const [s1, s2] = [new Uint8Array(randomBytes(32)), new Uint8Array(randomBytes(32))];
    const length = CHUNK_WORDS + 100;
    const x = Uint32Array.from({ length }, (_, i) => (i * 2654435761) >>> 0);

    // Execute
    const masked = applyMasks(x.slice(), [{ seed: s1, sign: 1 }, { seed: s2, sign: -1 }]);
    const manual = x.slice();
    const m1 = expandMask(s1, length);
    const m2 = expandMask(s2, length);
    for (let i = 0; i < length; i++) manual[i] = (manual[i]! + m1[i]! - m2[i]!) >>> 0;
    const unmasked = applyMasks(masked.slice(), [{ seed: s2, sign: 1 }, { seed: s1, sign: -1 }]);

    // Assert
    expect(masked).toEqual(manual);
    expect(unmasked).toEqual(x);
  });
});

describe("addWrapping", () => {
  it("adds modulo 2^32", () => {
    // Execute / Assert
    expect([...addWrapping(new Uint32Array([0xffffffff, 5]), new Uint32Array([2, 0xfffffffe]))]).toEqual([1, 3]);
    expect(() => addWrapping(new Uint32Array(2), new Uint32Array(3))).toThrow("cannot add a vector of 3 values to a sum of 2");
  });
});

describe("maskedBytes / readMasked", () => {
  it("round-trips a masked vector through little-endian bytes", () => {
    // Prepare
    const masked = new Uint32Array([1, 0x01020304, 0xffffffff]);

    // Execute
    const bytes = maskedBytes(masked).slice();

    // Assert
    expect([...bytes.subarray(4, 8)]).toEqual([4, 3, 2, 1]);
    expect(readMasked(bytes, 3)).toEqual(masked);
    expect(() => readMasked(bytes, 4)).toThrow("a masked input of 4 values is 16 bytes, got 12");
  });
});
