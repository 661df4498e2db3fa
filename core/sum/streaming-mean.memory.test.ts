import { createHash, randomFillSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CodecSpec } from "../codec/codec-spec.ts";
import { containerBytes } from "../codec/container.ts";
import { streamingMean, type UpdateSource } from "./streaming-mean.ts";

const CHUNK = 256;
const RECORD = 4 + CHUNK;

/**
 * A valid int8 update of `length` values generated as it is read, through one reused buffer: the
 * source itself holds no copy, so what the process holds while summing is the sum's own memory.
 */
function generated(id: string, length: number, seed: number, sample: () => void): UpdateSource {
  return {
    id,
    weight: 100 + seed,
    async open() {
      return (async function* () {
        const hash = createHash("sha256");
        const header = new Uint8Array(16);
        const view = new DataView(header.buffer);
        header.set([0x43, 0x4e, 0x53, 0x4c, 1, 2]);
        view.setUint32(8, length, true);
        view.setUint32(12, CHUNK, true);
        hash.update(header);
        yield header;
        const payloadBytes = containerBytes("int8", length, CHUNK) - 16 - 32;
        const buffer = new Uint8Array(252 * RECORD);
        const scales = new DataView(buffer.buffer);
        for (let at = 0; at < payloadBytes; at += buffer.length) {
          const piece = buffer.subarray(0, Math.min(buffer.length, payloadBytes - at));
          randomFillSync(piece);
          // `at` is a multiple of RECORD, so records start at multiples of RECORD within the piece.
          for (let r = 0; r < piece.length; r += RECORD) scales.setFloat32(r, 1e-3 * (1 + (seed % 7)), true);
          hash.update(piece);
          sample();
          yield piece;
        }
        yield new Uint8Array(hash.digest());
      })();
    },
  };
}

describe("streamingMean's memory", () => {
  it("stays within twice the float32 model plus one piece per site while summing int8 updates", async () => {
    const length = 8_000_000;
    const sites = 20;
    const pieceValues = 65_536;
    // Resident memory, which counts the WebAssembly memory the sum lives in (ArrayBuffer accounting does not).
    const before = process.memoryUsage.rss();
    let peak = before;
    const sample = () => {
      peak = Math.max(peak, process.memoryUsage.rss());
    };
    const sources = Array.from({ length: sites }, (_, s) => generated(`s${s}`, length, s, sample));
    const result = await streamingMean(sources, { length, codec: CodecSpec.parse("int8"), maxAbs: 1, pieceValues, concurrency: sites });
    sample();
    expect(result.rejected).toEqual([]);
    expect(result.kept).toHaveLength(sites);
    expect(result.mean.some((v) => v !== 0) && result.mean.every(Number.isFinite)).toBe(true);

    const model = 4 * length;
    const piece = pieceValues + 4 * (pieceValues / CHUNK);
    const bound = 2 * model + sites * piece;
    // Measured: the growth of the process's resident memory while the sum ran (the generators' buffers and the JS heap included).
    expect(peak - before).toBeLessThanOrEqual(bound);
    expect(result.arenaBytes).toBeLessThanOrEqual(model + sites * piece + 65_536);
    // What decoding every update first would have held: one float32 copy per site, ten times the growth measured.
    expect(peak - before).toBeLessThan((sites * model) / 10);
  });
});
