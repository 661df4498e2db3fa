import { createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";

const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/**
 * Sites' long-term Ed25519 identity public keys (raw, 32 bytes) by site index, as the federation
 * registered them. Every signed secure-aggregation message is checked against this directory.
 */
export type IdentityDirectory = ReadonlyMap<number, Uint8Array>;

/** A site's long-term Ed25519 identity: the private key it keeps, the raw public key it registers. */
export interface Identity {
  readonly privateKey: KeyObject;
  readonly publicKey: Uint8Array;
}

/**
 * A fresh Ed25519 identity (`crypto.generateKeyPairSync('ed25519')`). A site makes one at
 * enrolment and keeps it across rounds; only the public key is registered.
 *
 * @example
 * const identity = generateIdentity(); // register toHex(identity.publicKey)
 */
export function generateIdentity(): Identity {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKey: new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(SPKI_PREFIX.length)) };
}

/** An Ed25519 signature (64 bytes) of `bytes`. */
export function signBytes(privateKey: KeyObject, bytes: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, bytes, privateKey));
}

/** Whether `signature` is a valid Ed25519 signature of `bytes` under the raw `publicKey`. */
export function verifyBytes(publicKey: Uint8Array, bytes: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const x = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString("base64url");
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
    return verify(null, bytes, key, signature);
  } catch {
    return false;
  }
}
