import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { fromHex, toHex } from "./hex.ts";
import { SHARE_PLAINTEXT_BYTES, TAG_BYTES, type EncryptedShare } from "./messages.ts";
import { FIELD_BYTES } from "./prime-field.ts";
import { SecAggError } from "./secagg-error.ts";

/** Who sends a share pair to whom, in which session and round: all of it is authenticated. */
export interface ShareRoute {
  readonly session: string;
  readonly round: number;
  readonly from: number;
  readonly to: number;
}

/** What one site holds of one peer: shares of the peer's mask key and of its self-mask seed. */
export interface SharePair {
  readonly maskKey: Uint8Array;
  readonly selfSeed: Uint8Array;
}

/**
 * The pair's shares encrypted for the coordinator to relay: AES-256-GCM under `key` (from
 * `shareEncryptionKey`), a random 96-bit nonce, and the route as associated data, so a relay that
 * swaps sender, recipient, round or session makes the share fail to open.
 *
 * @example
 * const share = encryptShares(key, { session, round, from: 3, to: 7 }, { maskKey, selfSeed });
 */
export function encryptShares(key: Uint8Array, route: ShareRoute, shares: SharePair): EncryptedShare {
  if (shares.maskKey.length !== FIELD_BYTES || shares.selfSeed.length !== FIELD_BYTES) throw new RangeError(`shares are ${FIELD_BYTES} bytes each`);
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(associatedData(route));
  const body = Buffer.concat([cipher.update(shares.maskKey), cipher.update(shares.selfSeed), cipher.final(), cipher.getAuthTag()]);
  return { kind: "encrypted-share", ...route, nonce: toHex(nonce), ciphertext: toHex(body) };
}

/**
 * Opens a relayed share pair. The route must be the expected one (`SECAGG_BAD_MESSAGE` otherwise)
 * and the ciphertext must authenticate under `key` with that route as associated data
 * (`SECAGG_DECRYPT_FAILED` otherwise: wrong key, tampered bytes or tampered route).
 *
 * @example
 * const { maskKey, selfSeed } = decryptShares(key, share, { session, round, from: 3, to: 7 });
 */
export function decryptShares(key: Uint8Array, share: EncryptedShare, expected: ShareRoute): SharePair {
  for (const field of ["session", "round", "from", "to"] as const) {
    if (share[field] !== expected[field]) {
      throw new SecAggError("SECAGG_BAD_MESSAGE", `an encrypted share says ${field} ${share[field]}, expected ${expected[field]}`);
    }
  }
  const body = fromHex(share.ciphertext);
  if (body.length !== SHARE_PLAINTEXT_BYTES + TAG_BYTES) throw new SecAggError("SECAGG_BAD_MESSAGE", `an encrypted share is ${SHARE_PLAINTEXT_BYTES + TAG_BYTES} bytes, got ${body.length}`);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, fromHex(share.nonce));
    decipher.setAAD(associatedData(expected));
    decipher.setAuthTag(body.subarray(SHARE_PLAINTEXT_BYTES));
    const plain = Buffer.concat([decipher.update(body.subarray(0, SHARE_PLAINTEXT_BYTES)), decipher.final()]);
    return { maskKey: new Uint8Array(plain.subarray(0, FIELD_BYTES)), selfSeed: new Uint8Array(plain.subarray(FIELD_BYTES)) };
  } catch {
    throw new SecAggError("SECAGG_DECRYPT_FAILED", `the share from site ${expected.from} to site ${expected.to} in round ${expected.round} does not authenticate`);
  }
}

/** The associated data of a share pair: its route, with a domain tag. */
export function associatedData(route: ShareRoute): Uint8Array {
  return new TextEncoder().encode(`consilium/secagg/v1 share\n${route.session}\n${route.round}\n${route.from}\n${route.to}`);
}
