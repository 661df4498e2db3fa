import { CHUNK_WORDS, keystream, nextWords } from "./keystream.ts";

/**
 * The mask a seed stands for: `length` uniform values of Z_2^32, the AES-256-CTR keystream of the
 * seed (zero counter) read as little-endian u32 — the PRG of Bonawitz et al. (CCS 2017), §4. Sites
 * and the coordinator expand the same seed to the same mask, whatever their chunking.
 *
 * @example
 * const mask = expandMask(seed, 1_000_000); // ≈ 4 MB of keystream
 */
export function expandMask(seed: Uint8Array, length: number, out = new Uint32Array(length)): Uint32Array {
  const stream = keystream(seed);
  const target = new Int32Array(out.buffer, out.byteOffset, length);
  for (let at = 0; at < length; at += CHUNK_WORDS) {
    const words = Math.min(CHUNK_WORDS, length - at);
    target.set(nextWords(stream, words), at);
  }
  return out;
}
