import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CodecSpec } from "../codec/codec-spec.ts";
import { decodeUpdate } from "../codec/decode-update.ts";
import { encodeUpdate } from "../codec/encode-update.ts";
import { sha256Hex } from "../codec/sha256-hex.ts";
import { seededValues } from "../../test/support/codec.ts";
import { ConsiliumError } from "../errors.ts";
import { streamingMean, type UpdateSource } from "./streaming-mean.ts";

/** The bytes as a stream of pieces of `size` bytes (the last may be short). */
async function* streamOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

const source = (id: string, bytes: Uint8Array, weight: number, size = 1000): UpdateSource => ({
  id,
  weight,
  sha256: sha256Hex(bytes),
  open: async () => streamOf(bytes, size),
});

/** The mean as the materialised path takes it: decode every update, float64 weights. */
function decodedMean(updates: readonly Uint8Array[], weights: readonly number[], length: number): Float32Array {
  const total = weights.reduce((a, b) => a + b, 0);
  const out = new Float32Array(length);
  updates.forEach((bytes, s) => {
    const { values } = decodeUpdate(bytes);
    for (let i = 0; i < length; i++) out[i]! += (weights[s]! / total) * values[i]!;
  });
  return out;
}

function expectClose(actual: Float32Array, expected: Float32Array, sites: number): void {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < actual.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(sites * 2 ** -22 * (scale + 1e-30));
}

const LENGTH = 3001;
const SPECS = ["float32", "float16", "int8", "int8:100", "int4", "topk:0.1+int8", "randk:0.2+int8", "topk:0.05+float16"];

function round(spec: string, sites = 5) {
  const codec = CodecSpec.parse(spec);
  const updates = Array.from({ length: sites }, (_, s) =>
    encodeUpdate(seededValues(LENGTH, 100 + s, 1 + s), codec.name, { ...codec, seed: 7 }),
  );
  const weights = updates.map((_, s) => 10 + 7 * s);
  return { codec, updates, weights };
}

describe("streamingMean", () => {
  it.each(SPECS)("matches decoding every update and averaging, for %s", async (spec) => {
    const { codec, updates, weights } = round(spec);
    const result = await streamingMean(
      updates.map((bytes, s) => source(`s${s}`, bytes, weights[s]!)),
      { length: LENGTH, codec, maxAbs: 1e4, pieceValues: 700, concurrency: 3, seed: 7 },
    );
    expect(result.rejected).toEqual([]);
    expect(result.passes).toBe(1);
    expect(result.kept.map((s) => s.id)).toEqual(["s0", "s1", "s2", "s3", "s4"]);
    expectClose(result.mean, decodedMean(updates, weights, LENGTH), 5);
  });

  it("gives the same bytes whatever the stream's chunking, the piece size or the number read side by side", async () => {
    const { codec, updates, weights } = round("int8:64", 7);
    const run = (chunk: number, pieceValues: number, concurrency: number) =>
      streamingMean(
        updates.map((bytes, s) => source(`s${s}`, bytes, weights[s]!, chunk)),
        { length: LENGTH, codec, maxAbs: 1e4, pieceValues, concurrency },
      ).then((r) => Buffer.from(r.mean.slice().buffer));
    const first = await run(1000, 65536, 32);
    for (const [chunk, piece, concurrency] of [[1, 64, 1], [17, 100, 2], [4096, 640, 7]] as const) {
      expect((await run(chunk, piece, concurrency)).equals(first)).toBe(true);
    }
  });

  it("holds one piece per update read side by side, not the updates", async () => {
    const { codec, updates, weights } = round("int8", 6);
    const result = await streamingMean(
      updates.map((bytes, s) => source(`s${s}`, bytes, weights[s]!)),
      { length: LENGTH, codec, maxAbs: 1e4, pieceValues: 512, concurrency: 4 },
    );
    // The float32 sum and 4 pieces of 512 int8 values (with their 2 scales), rounded up to whole 64 KiB pages.
    expect(result.arenaBytes).toBe(65536 * Math.ceil((64 + 4 * 3008 + 4 * 528) / 65536));
  });

  describe("rejects a bad update and sums the others", () => {
    const cases: [string, (bytes: Uint8Array) => Uint8Array, string][] = [
      ["a corrupt checksum", (b) => flip(b, b.length - 1), "CHECKSUM_MISMATCH"],
      ["a corrupt value", (b) => flip(b, 2000), "CHECKSUM_MISMATCH"],
      ["a non-finite scale", (b) => withScale(b, 5, Number.POSITIVE_INFINITY), "NON_FINITE"],
      ["a value past the bound", (b) => withScale(b, 9, 1e3), "UPDATE_OUT_OF_RANGE"],
      ["a truncated stream", (b) => b.subarray(0, b.length - 40), "TRUNCATED"],
      ["trailing bytes", (b) => Uint8Array.from([...b, 0]), "SIZE_MISMATCH"],
      ["another codec", () => encodeUpdate(seededValues(LENGTH, 1), "float16"), "CODEC_MISMATCH"],
      ["another chunk size", () => encodeUpdate(seededValues(LENGTH, 1), "int8", { chunkSize: 128 }), "PARAM_MISMATCH"],
      ["another length", () => encodeUpdate(seededValues(LENGTH - 1, 1), "int8"), "LENGTH_MISMATCH"],
      ["a bad magic", (b) => flip(b, 0), "BAD_MAGIC"],
    ];
    it.each(cases)("%s", async (_, spoil, code) => {
      const { codec, updates, weights } = round("int8", 5);
      const bad = spoil(updates[2]!);
      const sources = updates.map((bytes, s) => (s === 2 ? { ...source("s2", bad, weights[2]!), sha256: undefined } : source(`s${s}`, bytes, weights[s]!)));
      const result = await streamingMean(sources, { length: LENGTH, codec, maxAbs: 50, pieceValues: 512, concurrency: 2 });
      expect(result.rejected.map((r) => [r.source.id, r.error.code])).toEqual([["s2", code]]);
      expect(result.kept.map((s) => s.id)).toEqual(["s0", "s1", "s3", "s4"]);
      const others = [0, 1, 3, 4];
      expectClose(result.mean, decodedMean(others.map((s) => updates[s]!), others.map((s) => weights[s]!), LENGTH), 4);
    });

    it("an int8 value of code −128 just past the bound (127 steps of its scale are within it)", async () => {
      const codec = CodecSpec.parse("int8");
      const updates = [encodeUpdate(seededValues(LENGTH, 100, 0.9), "int8"), encodeUpdate(seededValues(LENGTH, 101, 0.5), "int8")];
      const weights = [1, 1];
      // Chunk 0 of site 1: scale 1/127.5, so 127 steps are 0.996 and −128 steps −1.004, past a bound of 1.
      const bad = updates[1]!.slice();
      const view = new DataView(bad.buffer);
      view.setFloat32(16, 1 / 127.5, true);
      view.setInt8(16 + 4, -128);
      bad.set(createHash("sha256").update(bad.subarray(0, bad.length - 32)).digest(), bad.length - 32);
      const sources = updates.map((bytes, s) => (s === 1 ? { id: "s1", weight: weights[1]!, open: async () => streamOf(bad, 1000) } : source(`s${s}`, bytes, weights[s]!)));
      const result = await streamingMean(sources, { length: LENGTH, codec, maxAbs: 1 });
      expect(result.rejected.map((r) => [r.source.id, r.error.code])).toEqual([["s1", "UPDATE_OUT_OF_RANGE"]]);
    });

    it("an update whose bytes differ from its manifest's hash", async () => {
      const { codec, updates, weights } = round("int8", 3);
      const sources = updates.map((bytes, s) => ({ ...source(`s${s}`, bytes, weights[s]!), ...(s === 0 && { sha256: sha256Hex(updates[1]!) }) }));
      const result = await streamingMean(sources, { length: LENGTH, codec, maxAbs: 1e4 });
      expect(result.rejected.map((r) => [r.source.id, r.error.code])).toEqual([["s0", "CHECKSUM_MISMATCH"]]);
      expect(result.passes).toBe(2);
    });

    it("a sparse update past the bound, and a missing one", async () => {
      const { codec, updates, weights } = round("topk:0.1+int8", 4);
      const sources: UpdateSource[] = updates.map((bytes, s) => source(`s${s}`, bytes, weights[s]!));
      sources[1] = { id: "s1", weight: 3, open: () => Promise.reject(new ConsiliumError("MISSING_UPDATE", "no object", 422)) };
      const result = await streamingMean(sources, { length: LENGTH, codec, maxAbs: 3.5 });
      // seededValues(…, spread 1 + s): sites 3 (spread 4) exceeds 3.5.
      expect(result.rejected.map((r) => [r.source.id, r.error.code])).toEqual([["s1", "MISSING_UPDATE"], ["s3", "UPDATE_OUT_OF_RANGE"]]);
      expectClose(result.mean, decodedMean([updates[0]!, updates[2]!], [weights[0]!, weights[2]!], LENGTH), 2);
    });
  });

  it("lets a failure to read (not a bad update) through, closing every stream it opened", async () => {
    const { codec, updates, weights } = round("int8", 3);
    let closed = 0;
    const failing = (bytes: Uint8Array, failAt: number): AsyncIterable<Uint8Array> => ({
      async *[Symbol.asyncIterator]() {
        try {
          for (let at = 0; at < bytes.length; at += 500) {
            if (at >= failAt) throw new Error("socket hang up");
            yield bytes.subarray(at, at + 500);
          }
        } finally {
          closed++;
        }
      },
    });
    const sources = updates.map((bytes, s) => ({ id: `s${s}`, weight: weights[s]!, open: async () => failing(bytes, s === 1 ? 1500 : Infinity) }));
    await expect(streamingMean(sources, { length: LENGTH, codec, maxAbs: 1e4, pieceValues: 256 })).rejects.toThrow("socket hang up");
    expect(closed).toBe(3);
  });

  it("returns zeros and every update rejected when none is good", async () => {
    const { codec, updates, weights } = round("int8", 2);
    const result = await streamingMean(updates.map((b, s) => source(`s${s}`, flip(b, 100), weights[s]!)), { length: LENGTH, codec, maxAbs: 1e4 });
    expect(result.kept).toEqual([]);
    expect(result.rejected).toHaveLength(2);
    expect(result.mean.every((v) => v === 0)).toBe(true);
  });
});

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at]! ^= 0x40;
  return copy;
}

/** The int8 update (chunk 256) with chunk `chunk`'s scale replaced and its checksum made true again. */
function withScale(bytes: Uint8Array, chunk: number, scale: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setFloat32(16 + chunk * 260, scale, true);
  copy.set(createHash("sha256").update(copy.subarray(0, copy.length - 32)).digest(), copy.length - 32);
  return copy;
}
