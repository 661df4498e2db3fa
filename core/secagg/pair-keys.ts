import { hkdfSync, type KeyObject } from "node:crypto";
import { fromHex } from "./hex.ts";
import { x25519Agree } from "./x25519.ts";

/**
 * The seed of the pairwise mask between sites `me` and `peer`: HKDF-SHA256 of their X25519 shared
 * secret (mask keys), salted with the session and labelled with the unordered pair, so both sites —
 * and the coordinator, once it has recovered a dropped site's mask key — derive the same 32 bytes.
 *
 * @example
 * const seed = pairwiseMaskSeed(session, x25519PrivateKey(maskSecret), peerMaskPublicKey, 3, 7);
 */
export function pairwiseMaskSeed(session: string, secret: KeyObject, peerPublic: Uint8Array, me: number, peer: number): Uint8Array {
  return derive(session, secret, peerPublic, `pairwise-mask ${Math.min(me, peer)} ${Math.max(me, peer)}`);
}

/**
 * The AES-256-GCM key for shares between `me` and `peer`, from their cipher keys (a second X25519
 * pair, never the mask key: recovering a dropped site's mask key must not open its mail).
 */
export function shareEncryptionKey(session: string, secret: KeyObject, peerPublic: Uint8Array, me: number, peer: number): Uint8Array {
  return derive(session, secret, peerPublic, `share-encryption ${Math.min(me, peer)} ${Math.max(me, peer)}`);
}

function derive(session: string, secret: KeyObject, peerPublic: Uint8Array, label: string): Uint8Array {
  const shared = x25519Agree(secret, peerPublic);
  return new Uint8Array(hkdfSync("sha256", shared, fromHex(session), `consilium/secagg/v1 ${label}`, 32));
}
