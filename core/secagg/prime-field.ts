import { randomBytes } from "node:crypto";

/**
 * p = 2^256 + 297, the smallest prime above 2^256 (checked by `prime-field.test.ts`). Every
 * 32-byte secret (a self-mask seed, a raw X25519 secret key, whose top bit may be set) is an
 * element of GF(p) as it stands, with no reduction and no loss.
 */
export const FIELD_PRIME = (1n << 256n) + 297n;

/** Bytes of a field element on the wire (big-endian; p needs 257 bits). */
export const FIELD_BYTES = 33;

/** `a mod p` in [0, p). */
export function mod(a: bigint): bigint {
  const r = a % FIELD_PRIME;
  return r < 0n ? r + FIELD_PRIME : r;
}

/** The inverse of a non-zero `a` in GF(p), by the extended Euclidean algorithm. */
export function invert(a: bigint): bigint {
  let [r0, r1] = [FIELD_PRIME, mod(a)];
  let [s0, s1] = [0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RangeError("0 has no inverse in GF(p)");
  return mod(s0);
}

/**
 * A uniform element of GF(p), by rejection: 257 random bits, redrawn while ≥ p (about half the
 * time). Uniform coefficients are what make t − 1 Shamir shares independent of the secret.
 */
export function randomFieldElement(): bigint {
  for (;;) {
    const bytes = randomBytes(FIELD_BYTES);
    bytes[0]! &= 0x01;
    const x = bytesToBigint(bytes);
    if (x < FIELD_PRIME) return x;
  }
}

/** A big-endian unsigned integer. */
export function bytesToBigint(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`);
}

/** `x` as `length` big-endian bytes; `x` must fit. */
export function bigintToBytes(x: bigint, length: number): Uint8Array {
  const hex = x.toString(16).padStart(2 * length, "0");
  if (hex.length > 2 * length) throw new RangeError(`${x} does not fit in ${length} bytes`);
  return new Uint8Array(Buffer.from(hex, "hex"));
}
