/**
 * @module
 * What a site keeps for secure aggregation: its long-term Ed25519 identity (registered once with
 * the coordinator, signing every message of every round) and the current round's protocol state
 * (`core/secagg` `SiteState`: the round's secret keys, self-mask seed and the shares neighbours
 * entrusted to it). Both stay on the site, written owner-only under its state folder when it has
 * one, so that a restarted runner keeps its identity and never reveals both shares of a peer.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { generateIdentity, type Identity } from "../../core/secagg/identity.ts";
import { SiteState } from "../../core/secagg/site-state.ts";
import { writeStateFile } from "../session/state-files.ts";

const SPKI_PREFIX_BYTES = 12;

/** The identity kept under `dir` (made and written there on first use), or a fresh one kept in memory. */
export async function loadIdentity(dir: string | undefined): Promise<Identity> {
  if (!dir) return generateIdentity();
  const file = join(dir, "identity.pem");
  const pem = await readFile(file, "utf8").catch(() => null);
  if (pem !== null) return identityOf(createPrivateKey(pem));
  const identity = generateIdentity();
  await writeStateFile(dir, "identity.pem", identity.privateKey.export({ format: "pem", type: "pkcs8" }));
  return identity;
}

function identityOf(privateKey: KeyObject): Identity {
  const der = createPublicKey(privateKey).export({ format: "der", type: "spki" });
  return { privateKey, publicKey: new Uint8Array(der.subarray(SPKI_PREFIX_BYTES)) };
}

/** Keeps the round's protocol state (before any message that depends on it leaves the site). */
export async function saveSecureState(dir: string | undefined, state: SiteState): Promise<void> {
  if (!dir) return;
  await writeStateFile(dir, "secure-round.json", JSON.stringify(state));
}

/** The kept protocol state of `round`, or null (none, another round's, or unreadable). */
export async function loadSecureState(dir: string | undefined, round: number): Promise<SiteState | null> {
  if (!dir) return null;
  const text = await readFile(join(dir, "secure-round.json"), "utf8").catch(() => null);
  if (text === null) return null;
  try {
    const state = SiteState.parse(JSON.parse(text));
    return state.config.round === round ? state : null;
  } catch {
    return null;
  }
}

/** Forgets a finished round's secrets. */
export async function dropSecureState(dir: string | undefined): Promise<void> {
  if (dir) await rm(join(dir, "secure-round.json"), { force: true });
}
