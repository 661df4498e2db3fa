import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from "node:crypto";
import { SecAggError } from "./secagg-error.ts";

// DER wrappers of a raw X25519 key (RFC 8410): the raw key is the last 32 bytes.
const PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex");

/** A raw X25519 key pair, 32 bytes each, as secure aggregation stores and shares them. */
export interface X25519Pair {
  readonly secret: Uint8Array;
  readonly publicKey: Uint8Array;
}

/**
 * A fresh X25519 key pair (`crypto.generateKeyPairSync('x25519')`), as raw bytes.
 *
 * @example
 * const { secret, publicKey } = generateX25519();
 */
export function generateX25519(): X25519Pair {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  return {
    secret: new Uint8Array(privateKey.export({ format: "der", type: "pkcs8" }).subarray(PKCS8_PREFIX.length)),
    publicKey: new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(SPKI_PREFIX.length)),
  };
}

/**
 * A raw X25519 secret as a key object, once per secret and phase: the import (~0.4 ms, PKCS#8
 * through OpenSSL) is what key agreement would otherwise repeat for every peer.
 */
export function x25519PrivateKey(secret: Uint8Array): KeyObject {
  if (secret.length !== 32) throw new SecAggError("SECAGG_BAD_SHARE", `an X25519 secret key is 32 bytes, got ${secret.length}`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secret]), format: "der", type: "pkcs8" });
}

/** The raw public key of a private key, computed from its secret (to check a key rebuilt from shares). */
export function x25519PublicOf(privateKey: KeyObject): Uint8Array {
  return new Uint8Array(createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(SPKI_PREFIX.length));
}

/**
 * The X25519 shared secret of a private key and a peer's raw public key (RFC 7748). Throws
 * `SecAggError` (`SECAGG_BAD_MESSAGE`) for a key that is not 32 bytes or a low-order point
 * (OpenSSL refuses the all-zero output).
 */
export function x25519Agree(privateKey: KeyObject, peerPublic: Uint8Array): Uint8Array {
  if (peerPublic.length !== 32) throw new SecAggError("SECAGG_BAD_MESSAGE", `an X25519 public key is 32 bytes, got ${peerPublic.length}`);
  try {
    const x = Buffer.from(peerPublic.buffer, peerPublic.byteOffset, peerPublic.byteLength).toString("base64url");
    const publicKey = createPublicKey({ key: { kty: "OKP", crv: "X25519", x }, format: "jwk" });
    return new Uint8Array(diffieHellman({ privateKey, publicKey }));
  } catch (error) {
    throw new SecAggError("SECAGG_BAD_MESSAGE", `X25519 key agreement failed (low-order or invalid public key): ${(error as Error).message}`);
  }
}
