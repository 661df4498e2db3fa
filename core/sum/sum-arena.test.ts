import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { encodeUpdate } from "../codec/encode-update.ts";
import { decodeUpdate } from "../codec/decode-update.ts";
import { HEADER_BYTES, CHECKSUM_BYTES } from "../codec/container.ts";
import { seededValues } from "../../test/support/codec.ts";
import { accumulateInt8Reference, SumArena } from "./sum-arena.ts";

const payloadOf = (bytes: Uint8Array) => bytes.subarray(HEADER_BYTES, bytes.length - CHECKSUM_BYTES);

describe("the int8 kernel", () => {
  it("is built from the committed int8-sum.wat", () => {
    // Exits 1 with a message when core/sum/int8-sum-wasm.ts differs from a fresh build.
    expect(() => execFileSync(process.execPath, ["scripts/build-wasm.mjs", "--check"], { stdio: "pipe" })).not.toThrow();
  });

  it.each([1, 7, 16, 17, 100, 256, 257])("agrees bit for bit with its reference at chunk size %i", (chunkSize) => {
    for (const length of [1, 15, 16, 33, 1000, 4099]) {
      const values = seededValues(length, length * 31 + chunkSize, 3);
      const payload = payloadOf(encodeUpdate(values, "int8", { chunkSize }));
      const arena = new SumArena(length, 1, payload.length);
      const expected = new Float32Array(length);
      for (const [k, weight] of [0.37, -1.5, 1e-3].entries()) {
        arena.slot(0).set(payload);
        arena.accumulateInt8(0, length, chunkSize, 0, weight);
        accumulateInt8Reference(payload, length, chunkSize, expected, 0, weight);
        expect(Buffer.from(arena.sum.buffer, arena.sum.byteOffset, 4 * length).equals(Buffer.from(expected.buffer)), `length ${length}, step ${k}`).toBe(true);
      }
    }
  });

  it("adds many sites in slot order, eight a call, as the reference does one site after another", () => {
    const length = 1000;
    const chunkSize = 64;
    const sites = 19;
    const payloads = Array.from({ length: sites }, (_, s) => payloadOf(encodeUpdate(seededValues(length, 500 + s, 1 + s), "int8", { chunkSize })));
    const weights = payloads.map((_, s) => 1 / (s + 2));
    const arena = new SumArena(length, sites + 1, payloads[0]!.length);
    payloads.forEach((p, s) => arena.slot(s + 1).set(p));
    arena.sum.fill(0.5);
    arena.accumulateInt8Sites(1, weights, length, chunkSize, 0);
    const expected = new Float32Array(length).fill(0.5);
    payloads.forEach((p, s) => accumulateInt8Reference(p, length, chunkSize, expected, 0, weights[s]!));
    expect(Buffer.from(arena.sum.slice().buffer).equals(Buffer.from(expected.buffer))).toBe(true);
  });

  it("adds weight × decoded value into the given range, to float32 rounding", () => {
    const values = seededValues(5000, 9, 2);
    const bytes = encodeUpdate(values, "int8", { chunkSize: 256 });
    const decoded = decodeUpdate(bytes).values;
    const arena = new SumArena(6000, 2, bytes.length);
    // A piece of whole chunks from value 512 on, added at offset 1000 of the sum.
    const piece = payloadOf(bytes).subarray(2 * 260);
    arena.slot(1).set(piece);
    arena.accumulateInt8(1, 5000 - 512, 256, 1000, 0.25);
    for (let i = 0; i < 6000; i++) {
      const want = i >= 1000 && i < 1000 + 4488 ? 0.25 * decoded[512 + i - 1000]! : 0;
      expect(Math.abs(arena.sum[i]! - want)).toBeLessThanOrEqual(Math.abs(want) * 2 ** -22);
    }
  });

  it("refuses a range outside the sum and an unknown slot", () => {
    const arena = new SumArena(10, 1, 16);
    expect(() => arena.accumulateInt8(0, 10, 8, 1, 1)).toThrow(RangeError);
    expect(() => arena.accumulateInt8(1, 1, 8, 0, 1)).toThrow(RangeError);
    // 8 values of chunk 8 take 12 bytes: from byte 5 they overrun the 16-byte slot.
    expect(() => arena.accumulateInt8(0, 8, 8, 0, 1, 5)).toThrow(RangeError);
    expect(() => new SumArena(600_000_000, 1, 16)).toThrow(/above the/);
  });
});
