import type { KeyObject } from "node:crypto";
import { ConfigError } from "../errors.ts";
import { toHex } from "./hex.ts";
import type { AdvertiseKeys } from "./messages.ts";
import { sessionId, type SecAggConfig } from "./secagg-config.ts";
import { signMessage } from "./signatures.ts";
import type { SiteState } from "./site-state.ts";
import { generateX25519 } from "./x25519.ts";

/**
 * Site, phase 0 (Bonawitz et al. 2017, round AdvertiseKeys): draws the round's two X25519 key
 * pairs — a cipher key for share encryption and a mask key for pairwise masks — and signs both
 * public keys with the site's long-term identity.
 *
 * @example
 * const { state, message } = advertiseKeys(config, 3, identity.privateKey);
 * // persist state; send message to the coordinator
 */
export function advertiseKeys(config: SecAggConfig, site: number, identity: KeyObject): { state: SiteState; message: AdvertiseKeys } {
  if (!Number.isInteger(site) || site < 1 || site > config.sites) throw new ConfigError(`site index must be 1..${config.sites}, got ${site}`);
  const cipher = generateX25519();
  const mask = generateX25519();
  const message = signMessage(
    { kind: "advertise-keys" as const, session: sessionId(config), round: config.round, site, cipherPublicKey: toHex(cipher.publicKey), maskPublicKey: toHex(mask.publicKey) },
    identity,
  );
  const state: SiteState = {
    config,
    site,
    phase: "advertised",
    cipherSecret: toHex(cipher.secret),
    maskSecret: toHex(mask.secret),
    maskPublicKey: toHex(mask.publicKey),
    neighbourKeys: [],
    held: [],
    revealed: [],
  };
  return { state, message };
}
