import { nonFinite, type Codec } from "./codec.ts";

/**
 * Uncompressed codec: IEEE 754 binary32, little-endian, one value after another. Exact, and the
 * baseline the lossy codecs are measured against.
 */
export const float32: Codec = {
  id: 1,

  param: () => 0,

  checkParam: (param) => (param === 0 ? undefined : `float32 takes no codec parameter, got ${param}`),

  pieceUnit: () => 1,

  payloadBytes: (length) => 4 * length,

  encode(values, _param, payload) {
    for (let i = 0; i < values.length; i++) payload.setFloat32(4 * i, values[i]!, true);
  },

  checkPayload(payload, length) {
    for (let i = 0; i < length; i++) {
      const value = payload.getFloat32(4 * i, true);
      if (!Number.isFinite(value)) return nonFinite(`update value at index ${i} is ${value}`);
    }
    return undefined;
  },

  decode(payload, length, _param, out) {
    for (let i = 0; i < length; i++) out[i] = payload.getFloat32(4 * i, true);
  },

  accumulate(payload, length, _param, out, weight) {
    for (let i = 0; i < length; i++) out[i]! += weight * payload.getFloat32(4 * i, true);
  },
};
