import { absmaxScale } from "./absmax-scale.ts";
import { nonFinite, type Codec } from "./codec.ts";
import { stochasticRound } from "./stochastic-round.ts";

/**
 * Block-wise absmax 4-bit quantisation (Dettmers et al. 2022, as in `int8.ts`) with stochastic
 * rounding (Alistarh et al., "QSGD", NeurIPS 2017).
 *
 * The parameter is the chunk size (default 128: a float32 scale per 128 values is 4.25 bits a
 * value, 7.5× smaller than float32; 64 would be 4.5 bits, 7.1×). The payload is interleaved, one record per
 * chunk: a little-endian float32 `scale = maxAbs / 7` (rounded up to float32), then that chunk's
 * codes in [-7, 7] as two's-complement nibbles, two per byte, low nibble first. A chunk of `n`
 * values takes `4 + ceil(n / 2)` bytes: each record starts on a byte, so with an odd `n` the last
 * byte's high nibble is 0 padding (ignored when decoding), which costs half a byte per chunk for
 * odd chunk sizes. The last chunk may be short. An all-zero chunk has scale 0.
 *
 * With an `rng`, codes are rounded stochastically (`stochastic-round.ts`, one draw per value of
 * every non-zero chunk), so E[decoded] = value and, at four bits, the rounding errors of many
 * sites and rounds average out instead of adding up; the error is then under one scale. Without
 * one, codes are rounded to nearest (ties away from zero) and the encoding is deterministic, with
 * at most half a scale of error.
 */
export const int4: Codec = {
  id: 4,

  param: (options) => options.chunkSize ?? 128,

  checkParam: (param) =>
    Number.isInteger(param) && param >= 1 && param <= 0xffffffff
      ? undefined
      : `int4 chunk size must be an integer from 1 to 4294967295, got ${param}`,

  pieceUnit: (chunkSize) => chunkSize,

  payloadBytes(length, chunkSize) {
    const full = Math.floor(length / chunkSize);
    const rest = length - full * chunkSize;
    return full * recordBytes(chunkSize) + (rest === 0 ? 0 : recordBytes(rest));
  },

  encode(values, chunkSize, payload, { rng }) {
    for (let start = 0, at = 0; start < values.length; start += chunkSize) {
      const end = Math.min(start + chunkSize, values.length);
      let maxAbs = 0;
      for (let i = start; i < end; i++) maxAbs = Math.max(maxAbs, Math.abs(values[i]!));
      const scale = scaleFor(maxAbs);
      payload.setFloat32(at, scale, true);
      at += 4;
      if (scale === 0) {
        at += recordBytes(end - start) - 4;
        continue;
      }
      for (let i = start; i < end; i += 2, at++) {
        const high = i + 1 < end ? nibble(values[i + 1]!, scale, rng) : 0;
        payload.setUint8(at, nibble(values[i]!, scale, rng) | (high << 4));
      }
    }
  },

  checkPayload(payload, length, chunkSize) {
    const stride = recordBytes(chunkSize);
    for (let start = 0, at = 0; start < length; start += chunkSize, at += stride) {
      const scale = payload.getFloat32(at, true);
      if (!Number.isFinite(scale)) return nonFinite(`update chunk ${start / chunkSize} has scale ${scale}`);
      // Code -8 (never written, but representable) has the largest magnitude. Only scales near
      // float32's range can overflow; scan their codes, skip everyone else's.
      if (Number.isFinite(Math.fround(scale * 8))) continue;
      const end = Math.min(start + chunkSize, length);
      for (let i = start; i < end; i++) {
        const byte = payload.getUint8(at + 4 + ((i - start) >>> 1));
        const code = signed((i - start) % 2 === 0 ? byte & 0xf : byte >>> 4);
        const value = Math.fround(scale * code);
        if (!Number.isFinite(value)) {
          return nonFinite(`update value at index ${i} decodes to ${value} (scale ${scale} × code ${code})`);
        }
      }
    }
    return undefined;
  },

  decode(payload, length, chunkSize, out) {
    for (let start = 0, at = 0; start < length; start += chunkSize) {
      const end = Math.min(start + chunkSize, length);
      const level = levels(payload.getFloat32(at, true));
      at += 4;
      for (let i = start; i < end; i += 2, at++) {
        const byte = payload.getUint8(at);
        out[i] = level[byte & 0xf]!;
        if (i + 1 < end) out[i + 1] = level[byte >>> 4]!;
      }
    }
  },

  accumulate(payload, length, chunkSize, out, weight) {
    for (let start = 0, at = 0; start < length; start += chunkSize) {
      const end = Math.min(start + chunkSize, length);
      // The levels are float32s, exactly what decode stores, so the sum matches decode then axpy.
      const level = levels(payload.getFloat32(at, true));
      at += 4;
      for (let i = start; i < end; i += 2, at++) {
        const byte = payload.getUint8(at);
        out[i]! += weight * level[byte & 0xf]!;
        if (i + 1 < end) out[i + 1]! += weight * level[byte >>> 4]!;
      }
    }
  },
};

/** `maxAbs / 7` rounded up to float32, then capped so that code 7 decodes finite. */
const scaleFor = absmaxScale(7);

/** Bytes of one chunk's record: its scale, then its codes two to a byte. */
function recordBytes(values: number): number {
  return 4 + Math.ceil(values / 2);
}

/** The 4-bit two's-complement pattern of `value`'s code under `scale` (non-zero). */
function nibble(value: number, scale: number, rng: (() => number) | undefined): number {
  const magnitude = Math.abs(value) / scale;
  const code = rng === undefined ? Math.round(magnitude) : stochasticRound(magnitude, 7, rng);
  return (value < 0 ? -code : code) & 0xf;
}

/** The code a nibble holds, in [-8, 7]. */
function signed(nibble: number): number {
  return (nibble ^ 8) - 8;
}

const decoded = new Float32Array(16);

/** What each of the 16 nibbles decodes to under `scale`, as float32 (`Math.fround(scale * code)`). */
function levels(scale: number): Float32Array {
  for (let nibble = 0; nibble < 16; nibble++) decoded[nibble] = scale * signed(nibble);
  return decoded;
}
