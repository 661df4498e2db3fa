import type { KeyObject } from "node:crypto";
import { fromHex, toHex } from "./hex.ts";
import { signBytes, verifyBytes, type IdentityDirectory } from "./identity.ts";
import type { AdvertiseKeys, MaskedInputManifest, UnmaskingShares } from "./messages.ts";
import { sessionId, type SecAggConfig } from "./secagg-config.ts";
import { SecAggError } from "./secagg-error.ts";

/** The messages a site signs with its identity. */
export type SignedMessage = AdvertiseKeys | MaskedInputManifest | UnmaskingShares;
/** A signed message before signing. */
export type Unsigned<M extends SignedMessage> = Omit<M, "signature">;

/**
 * The bytes a site signs: a domain tag, then the message's fields in a fixed order, one per line
 * (numbers, hex and comma-separated lists only, so the encoding is unambiguous).
 */
export function signedBytes(message: Unsigned<AdvertiseKeys> | Unsigned<MaskedInputManifest> | Unsigned<UnmaskingShares>): Uint8Array {
  const head = ["consilium/secagg/v1", message.kind, message.session, message.round, message.site];
  const list = (shares: readonly { of: number; share: string }[]) => shares.map((s) => `${s.of}:${s.share}`).join(",");
  const body =
    message.kind === "advertise-keys"
      ? [message.cipherPublicKey, message.maskPublicKey]
      : message.kind === "masked-input"
        ? [message.length, message.byteLength, message.sha256, message.maskedWith.join(","), message.selfSeedCommitment]
        : [list(message.selfSeedShares), list(message.maskKeyShares)];
  return new TextEncoder().encode([...head, ...body].join("\n"));
}

/**
 * `message` with its Ed25519 signature under the site's identity.
 *
 * @example
 * const advert = signMessage({ kind: "advertise-keys", session, round, site, cipherPublicKey, maskPublicKey }, identity.privateKey);
 */
export function signMessage<M extends Unsigned<AdvertiseKeys> | Unsigned<MaskedInputManifest> | Unsigned<UnmaskingShares>>(message: M, identity: KeyObject): M & { signature: string } {
  return { ...message, signature: toHex(signBytes(identity, signedBytes(message))) };
}

/**
 * Checks that a message belongs to this round and session, comes from a site of the round
 * (`site`, when given, must be it) and carries a valid signature of its site's registered
 * identity. Throws `SecAggError`: `SECAGG_BAD_MESSAGE` for a wrong session, round or site,
 * `SECAGG_BAD_SIGNATURE` for an unknown identity or a signature that does not verify.
 *
 * @example
 * verifyMessage(config, advert, identities);
 */
export function verifyMessage(config: SecAggConfig, message: SignedMessage, identities: IdentityDirectory, site?: number): void {
  checkBinding(config, message, site);
  const identity = identities.get(message.site);
  if (identity === undefined) throw new SecAggError("SECAGG_BAD_SIGNATURE", `no identity key is registered for site ${message.site}`);
  const { signature, ...unsigned } = message;
  if (!verifyBytes(identity, signedBytes(unsigned), fromHex(signature))) {
    throw new SecAggError("SECAGG_BAD_SIGNATURE", `the ${message.kind} message of site ${message.site} in round ${message.round} has an invalid signature`);
  }
}

/** Throws `SECAGG_BAD_MESSAGE` unless the message names this config's session and round and a site of the round (`site` if given). */
export function checkBinding(config: SecAggConfig, message: { kind: string; session: string; round: number; site: number }, site?: number): void {
  const what = `${message.kind} message of site ${message.site}`;
  if (message.round !== config.round) throw new SecAggError("SECAGG_BAD_MESSAGE", `the ${what} is for round ${message.round}, not ${config.round}`);
  if (message.session !== sessionId(config)) throw new SecAggError("SECAGG_BAD_MESSAGE", `the ${what} belongs to another session of round ${config.round}`);
  if (message.site > config.sites) throw new SecAggError("SECAGG_BAD_MESSAGE", `the ${what} names a site outside 1..${config.sites}`);
  if (site !== undefined && message.site !== site) throw new SecAggError("SECAGG_BAD_MESSAGE", `expected a message of site ${site}, got the ${what}`);
}
