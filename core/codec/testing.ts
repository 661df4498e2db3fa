/**
 * @module
 * Helpers for the codec tests: hex conversion, hand-crafted containers and reproducible vectors.
 */
import { createHash } from "node:crypto";

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** Header and payload given as hex, followed by their true SHA-256, so checks after the checksum can be reached. */
export function sealed(hex: string): Uint8Array {
  const body = fromHex(hex);
  const bytes = new Uint8Array(body.length + 32);
  bytes.set(body);
  bytes.set(createHash("sha256").update(body).digest(), body.length);
  return bytes;
}

/** `length` values in [-spread, spread) from a seeded mulberry32 stream. */
export function seededValues(length: number, seed: number, spread = 1): Float32Array {
  const values = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    values[i] = ((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 2 - 1) * spread;
  }
  return values;
}

/** `out[i] += weight * values[i]`, the reference for `decodeUpdateInto`. */
export function axpy(out: Float32Array, weight: number, values: Float32Array): void {
  for (let i = 0; i < out.length; i++) out[i]! += weight * values[i]!;
}

/** What `run` threw, reduced to the fields callers may rely on; `undefined` if it returned. */
export function failure(run: () => unknown): { name: string; code?: string; message: string } | undefined {
  try {
    run();
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    const code = (error as { code?: unknown }).code;
    return typeof code === "string"
      ? { name: error.name, code, message: error.message }
      : { name: error.name, message: error.message };
  }
  return undefined;
}
