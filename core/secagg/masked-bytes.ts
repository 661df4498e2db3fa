import { SecAggError } from "./secagg-error.ts";

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The bytes of a masked input as uploaded: its u32 values little-endian, nothing else (the
 * manifest carries length, byte length and SHA-256). A view, not a copy, on little-endian hosts.
 *
 * @example
 * await store.put(`rounds/${r}/updates/${site}.bin`, maskedBytes(masked));
 */
export function maskedBytes(masked: Uint32Array): Uint8Array {
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
export function readMasked(bytes: Uint8Array, length: number): Uint32Array {
  if (bytes.byteLength !== 4 * length) {
    throw new SecAggError("SECAGG_BAD_MESSAGE", `a masked input of ${length} values is ${4 * length} bytes, got ${bytes.byteLength}`);
  }
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, length);
  const out = new Uint32Array(length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < length; i++) out[i] = view.getUint32(4 * i, true);
  return out;
}
