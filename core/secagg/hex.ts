import { z } from "zod";

/**
 * A zod schema for exactly `bytes` bytes written as lower-case hex, how secure-aggregation
 * messages carry keys, nonces, ciphertexts and signatures.
 *
 * @example
 * const PublicKey = hexBytes(32);
 */
export function hexBytes(bytes: number) {
  return z.string().regex(new RegExp(`^[0-9a-f]{${2 * bytes}}$`), `expected ${bytes} bytes as lower-case hex`);
}

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** The bytes of a hex string (already validated by `hexBytes`). */
export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, "hex"));
}
