import type { Codec } from "./codec.ts";

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
 */
export const int8: Codec = {
  id: 2,

  param: (options) => options.chunkSize ?? 256,

  checkParam: (param) =>
    Number.isInteger(param) && param >= 1 && param <= 0xffffffff
      ? undefined
      : `int8 chunk size must be an integer from 1 to 4294967295, got ${param}`,

  payloadBytes: (length, chunkSize) => length + 4 * Math.ceil(length / chunkSize),

  encode(values, chunkSize, payload) {
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
        const code = Math.round(Math.abs(value) / scale);
        payload.setInt8(at, value < 0 ? -code : code);
      }
    }
  },

  checkPayload(payload, length, chunkSize) {
    for (let start = 0, at = 0; start < length; start += chunkSize, at += 4 + chunkSize) {
      const scale = payload.getFloat32(at, true);
      if (!Number.isFinite(scale)) return `update chunk ${start / chunkSize} has scale ${scale}`;
      // Only scales near float32's range can overflow; scan their codes, skip everyone else's.
      if (Number.isFinite(Math.fround(scale * 128))) continue;
      const end = Math.min(start + chunkSize, length);
      for (let i = start; i < end; i++) {
        const code = payload.getInt8(at + 4 + i - start);
        const value = Math.fround(scale * code);
        if (!Number.isFinite(value)) {
          return `update value at index ${i} decodes to ${value} (scale ${scale} × code ${code})`;
        }
      }
    }
    return undefined;
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

const bits = new Float32Array(1);
const word = new Uint32Array(bits.buffer);

/** The next float32 after a non-negative finite float32 `x`, towards +∞ (`step` 1) or 0 (-1). */
function nextFloat32(x: number, step: 1 | -1): number {
  bits[0] = x;
  word[0] = word[0]! + step;
  return bits[0]!;
}

/** Largest scale whose code 127 still decodes to a finite float32. */
const MAX_SCALE = (() => {
  let scale = Math.fround(3.4028234663852886e38 / 127);
  while (!Number.isFinite(Math.fround(scale * 127))) scale = nextFloat32(scale, -1);
  return scale;
})();

/** `maxAbs / 127` rounded up to float32, then capped so that code 127 decodes finite. */
function scaleFor(maxAbs: number): number {
  let scale = Math.fround(maxAbs / 127);
  // Rounding down is harmless for normal scales but, for subnormal ones, can leave so few bits
  // that the largest code lands far past 127. scale * 127 is exact in a double.
  if (scale * 127 < maxAbs) scale = nextFloat32(scale, 1);
  // The cap still maps float32's largest value to 127.0000008 scales, i.e. code 127.
  return Math.min(scale, MAX_SCALE);
}
