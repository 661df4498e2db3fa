import { SecAggError } from "./secagg-error.ts";

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Bytes per masked value in a ring of `bits`. */
export function bytesPerValue(bits: 16 | 32 = 32): number {
  return bits / 8;
}

/**
 * The bytes of a masked input as uploaded: its u32 values little-endian, nothing else (the
 * manifest carries length, byte length and SHA-256); a view, not a copy, on little-endian hosts.
 * In a 16-bit ring only each value's low 16 bits, little-endian (a copy).
 *
 * @example
 * await store.put(`rounds/${r}/updates/${site}.bin`, maskedBytes(masked));
 */
export function maskedBytes(masked: Uint32Array, bits: 16 | 32 = 32): Uint8Array {
  if (bits === 16) {
    const bytes = new Uint8Array(2 * masked.length);
    for (let i = 0; i < masked.length; i++) {
      bytes[2 * i] = masked[i]! & 0xff;
      bytes[2 * i + 1] = (masked[i]! >>> 8) & 0xff;
    }
    return bytes;
  }
  if (LITTLE_ENDIAN) return new Uint8Array(masked.buffer, masked.byteOffset, masked.byteLength);
  const bytes = new Uint8Array(masked.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < masked.length; i++) view.setUint32(4 * i, masked[i]!, true);
  return bytes;
}

/**
 * A masked input read back from its bytes; throws `SecAggError` (`SECAGG_BAD_MESSAGE`) when the
 * byte length is not 4 × `length`.
 *
 * @example
 * addWrapping(maskedSum, readMasked(await store.get(key), config.length));
 */
export function readMasked(bytes: Uint8Array, length: number, bits: 16 | 32 = 32): Uint32Array {
  const size = bytesPerValue(bits) * length;
  if (bytes.byteLength !== size) {
    throw new SecAggError("SECAGG_BAD_MESSAGE", `a masked input of ${length} values is ${size} bytes, got ${bytes.byteLength}`);
  }
  // A 16-bit ring: each value zero-extended, so that sums mod 2^32 keep the sum mod 2^16 in their low half.
  if (bits === 16) {
    const out = new Uint32Array(length);
    for (let i = 0; i < length; i++) out[i] = bytes[2 * i]! | (bytes[2 * i + 1]! << 8);
    return out;
  }
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, length);
  const out = new Uint32Array(length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < length; i++) out[i] = view.getUint32(4 * i, true);
  return out;
}
