/**
 * @module
 * Helpers for the codec tests: hex conversion, hand-crafted containers, reproducible vectors and
 * a measure of rounding bias.
 */
import { createHash } from "node:crypto";
import { decodeUpdate } from "../../core/codec/decode-update.ts";
import { encodeUpdate } from "../../core/codec/encode-update.ts";

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

/**
 * One chunk whose codes all sit a fraction in [0.05, 0.45) above an integer, signs alternating:
 * round-to-nearest takes every one towards zero, a bias stochastic rounding must not have.
 */
export function chunkRoundedTowardsZero(length: number, maxCode: number, unit: number): Float32Array {
  const jitter = seededValues(length, 17);
  return Float32Array.from({ length }, (_, i) => {
    const magnitude = i === 0 ? maxCode : (i % maxCode) + 0.25 + 0.2 * jitter[i]!;
    return (i % 2 === 0 ? 1 : -1) * magnitude * unit;
  });
}

/**
 * How far the mean of `trials` encodings of one chunk (`values`, encoded with chunk size
 * `values.length`) lies from `values`, in standard errors of stochastic rounding. With scale `s`
 * and `q = |value| / s`, one decoding is `s * (floor(q) + B)` with B ~ Bernoulli(p), p = q -
 * floor(q), so the mean of N decodings has standard error `s * sqrt(p (1 - p) / N)`. Errors are
 * signed away from zero, the direction a rounding bias takes, after an allowance of half a
 * float32 ulp per decoded value. `worst` is the largest |z| of one value; `overall` is the z of
 * their sum (the values round independently, so variances add), which catches a bias too small
 * to show in any single value. `rng` undefined measures round-to-nearest the same way.
 */
export function roundingBias(
  values: Float32Array,
  codec: "int8" | "int4",
  trials: number,
  rng: (() => number) | undefined,
): { worst: number; overall: number } {
  const sums = new Float64Array(values.length);
  let scale = 0;
  for (let t = 0; t < trials; t++) {
    const bytes = encodeUpdate(values, codec, { chunkSize: values.length, rng });
    scale = new DataView(bytes.buffer, bytes.byteOffset).getFloat32(16, true);
    decodeUpdate(bytes).values.forEach((value, i) => (sums[i]! += value));
  }
  let worst = 0;
  let errorSum = 0;
  let allowanceSum = 0;
  let variance = 0;
  values.forEach((value, i) => {
    const q = Math.abs(value) / scale;
    const p = q - Math.floor(q);
    const standardError = scale * Math.sqrt((p * (1 - p)) / trials);
    const error = Math.sign(value) * (sums[i]! / trials - value);
    const allowance = (Math.abs(value) + scale) * 2 ** -24;
    const excess = Math.max(0, Math.abs(error) - allowance);
    worst = Math.max(worst, excess === 0 ? 0 : excess / standardError);
    errorSum += error;
    allowanceSum += allowance;
    variance += standardError ** 2;
  });
  const overallExcess = Math.max(0, Math.abs(errorSum) - allowanceSum);
  return { worst, overall: overallExcess === 0 ? 0 : overallExcess / Math.sqrt(variance) };
}
