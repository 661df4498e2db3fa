import { absmaxScale } from "./absmax-scale.ts";
import { nonFinite, type Codec } from "./codec.ts";
import { stochasticRound } from "./stochastic-round.ts";

/**
 * Block-wise absmax int8 quantisation (Dettmers et al., "8-bit Optimizers via Block-wise
 * Quantization", ICLR 2022).
 *
 * The parameter is the chunk size (default 256). The payload is interleaved, one record per
 * chunk: a little-endian float32 `scale = maxAbs / 127` (rounded up to float32), then that
 * chunk's int8 codes `round(value / scale)` (ties away from zero), all within [-127, 127].
 * A chunk decodes to `scale * code` as soon as its `4 + chunkSize` bytes have arrived, so
 * encoder and decoder stream chunk by chunk. The last chunk may be short. An all-zero chunk has
 * scale 0.
 *
 * With an `rng`, codes are rounded stochastically instead (`stochastic-round.ts`, one draw per
 * value of every non-zero chunk): unbiased, at up to a whole scale of error instead of half.
 */
export const int8: Codec = {
  id: 2,

  param: (options) => options.chunkSize ?? 256,

  checkParam: (param) =>
    Number.isInteger(param) && param >= 1 && param <= 0xffffffff
      ? undefined
      : `int8 chunk size must be an integer from 1 to 4294967295, got ${param}`,

  pieceUnit: (chunkSize) => chunkSize,

  payloadBytes: (length, chunkSize) => length + 4 * Math.ceil(length / chunkSize),

  encode(values, chunkSize, payload, { rng }) {
    for (let start = 0, at = 0; start < values.length; start += chunkSize) {
      const end = Math.min(start + chunkSize, values.length);
      let maxAbs = 0;
      for (let i = start; i < end; i++) maxAbs = Math.max(maxAbs, Math.abs(values[i]!));
      const scale = scaleFor(maxAbs);
      payload.setFloat32(at, scale, true);
      at += 4;
      if (scale === 0) {
        at += end - start;
        continue;
      }
      for (let i = start; i < end; i++, at++) {
        const value = values[i]!;
        const magnitude = Math.abs(value) / scale;
        const code = rng === undefined ? Math.round(magnitude) : stochasticRound(magnitude, 127, rng);
        payload.setInt8(at, value < 0 ? -code : code);
      }
    }
  },

  checkPayload(payload, length, chunkSize) {
    for (let start = 0, at = 0; start < length; start += chunkSize, at += 4 + chunkSize) {
      const scale = payload.getFloat32(at, true);
      if (!Number.isFinite(scale)) return nonFinite(`update chunk ${start / chunkSize} has scale ${scale}`);
      // Only scales near float32's range can overflow; scan their codes, skip everyone else's.
      if (Number.isFinite(Math.fround(scale * 128))) continue;
      const end = Math.min(start + chunkSize, length);
      for (let i = start; i < end; i++) {
        const code = payload.getInt8(at + 4 + i - start);
        const value = Math.fround(scale * code);
        if (!Number.isFinite(value)) {
          return nonFinite(`update value at index ${i} decodes to ${value} (scale ${scale} × code ${code})`);
        }
      }
    }
    return undefined;
  },

  largest(payload, length, chunkSize, bound = -1) {
    let largest = 0;
    for (let start = 0, at = 0; start < length; start += chunkSize, at += 4 + chunkSize) {
      const scale = payload.getFloat32(at, true);
      // Codes run from −128 to 127: a chunk is clear of the bound only if 128 steps of its scale are.
      if (Math.abs(Math.fround(scale * 128)) <= bound) continue;
      const end = Math.min(start + chunkSize, length);
      for (let i = start; i < end; i++) largest = Math.max(largest, Math.abs(Math.fround(scale * payload.getInt8(at + 4 + i - start))));
    }
    return largest;
  },

  decode(payload, length, chunkSize, out) {
    for (let start = 0, at = 0; start < length; start += chunkSize) {
      const end = Math.min(start + chunkSize, length);
      const scale = payload.getFloat32(at, true);
      at += 4;
      for (let i = start; i < end; i++, at++) out[i] = scale * payload.getInt8(at);
    }
  },

  accumulate(payload, length, chunkSize, out, weight) {
    for (let start = 0, at = 0; start < length; start += chunkSize) {
      const end = Math.min(start + chunkSize, length);
      const scale = payload.getFloat32(at, true);
      at += 4;
      // fround first so the sum matches decode (which stores a float32) followed by axpy.
      for (let i = start; i < end; i++, at++) out[i]! += weight * Math.fround(scale * payload.getInt8(at));
    }
  },
};

/** `maxAbs / 127` rounded up to float32, then capped so that code 127 decodes finite. */
const scaleFor = absmaxScale(127);
