import { nonFinite, type Codec } from "./codec.ts";

/**
 * Half precision: IEEE 754 binary16 (IEEE 754-2008), little-endian, one value after another,
 * rounded to nearest, ties to even. Half the bytes of float32, with a relative error of at most
 * 2^-11 for values in float16's normal range (2^-14 to 65504) and an absolute error of at most
 * 2^-25 below it, where subnormals take over and anything up to 2^-25 becomes ±0.
 *
 * Values beyond ±65504, float16's largest finite value, saturate to it instead of becoming
 * ±Infinity: the coordinator rejects an update that decodes non-finite as a whole, and bounding
 * magnitudes is its job (`maxUpdateAbs`, 1e4 by default), not the codec's. A bound above 65504
 * therefore never sees more than 65504 from a float16 site.
 *
 * Node 20 has neither `Math.f16round` nor `DataView#setFloat16`, so encoding works on the float32
 * bits and decoding looks the 65,536 possible patterns up in a table built on first use.
 */
export const float16: Codec = {
  id: 3,

  param: () => 0,

  checkParam: (param) => (param === 0 ? undefined : `float16 takes no codec parameter, got ${param}`),

  pieceUnit: () => 1,

  payloadBytes: (length) => 2 * length,

  encode(values, _param, payload) {
    for (let i = 0; i < values.length; i++) payload.setUint16(2 * i, toHalf(values[i]!), true);
  },

  checkPayload(payload, length) {
    for (let i = 0; i < length; i++) {
      const half = payload.getUint16(2 * i, true);
      // An all-ones exponent is Infinity or NaN; nothing else can decode non-finite.
      if ((half & 0x7c00) === 0x7c00) return nonFinite(`update value at index ${i} is ${halves()[half]}`);
    }
    return undefined;
  },

  decode(payload, length, _param, out) {
    const table = halves();
    for (let i = 0; i < length; i++) out[i] = table[payload.getUint16(2 * i, true)]!;
  },

  accumulate(payload, length, _param, out, weight) {
    const table = halves();
    // The table holds float32s, exactly what decode stores, so the sum matches decode then axpy.
    for (let i = 0; i < length; i++) out[i]! += weight * table[payload.getUint16(2 * i, true)]!;
  },
};

const bits = new Float32Array(1);
const word = new Uint32Array(bits.buffer);

/** The float32 bit pattern of 65520, halfway from 65504 to 65536 (2^16, one past the range). */
const HALFWAY_PAST_MAX = 0x477ff000;
/** The float32 bit pattern of 2^-14, float16's smallest normal value. */
const SMALLEST_NORMAL = 0x38800000;

/** binary16 bits of a float32, to nearest even, saturating at ±65504 (0x7bff). */
function toHalf(value: number): number {
  bits[0] = value;
  const sign = (word[0]! >>> 16) & 0x8000;
  const magnitude = word[0]! & 0x7fffffff;
  // From 65520 up, to-nearest-even would give Infinity (65504's mantissa is odd).
  if (magnitude >= HALFWAY_PAST_MAX) return sign | 0x7bff;
  if (magnitude < SMALLEST_NORMAL) {
    // Subnormals count units of 2^-24; the scaling is exact in a double, and so is the tie test.
    // Rounding up to 1024 units gives 0x0400, the smallest normal, as it should.
    const units = Math.abs(value) * 2 ** 24;
    const rounded = Math.round(units);
    return sign | (rounded - units === 0.5 && (rounded & 1) === 1 ? rounded - 1 : rounded);
  }
  // Rebias the exponent from 127 to 15, then round away the 13 low mantissa bits: adding
  // 0xfff plus the kept part's lowest bit carries exactly when above halfway or at a tie with an
  // odd kept part. A carry out of the mantissa correctly bumps the exponent.
  return sign | ((magnitude - 0x38000000 + 0xfff + ((magnitude >>> 13) & 1)) >>> 13);
}

let table: Float32Array | undefined;

/** Every binary16 pattern's value as a float32 (exact), built on first use: 256 KiB. */
function halves(): Float32Array {
  if (table !== undefined) return table;
  table = new Float32Array(65536);
  for (let half = 0; half < 65536; half++) {
    const exponent = (half >>> 10) & 0x1f;
    const mantissa = half & 0x3ff;
    const magnitude =
      exponent === 0
        ? mantissa * 2 ** -24
        : exponent === 0x1f
          ? mantissa === 0
            ? Infinity
            : NaN
          : (0x400 + mantissa) * 2 ** (exponent - 25);
    table[half] = half & 0x8000 ? -magnitude : magnitude;
  }
  return table;
}
