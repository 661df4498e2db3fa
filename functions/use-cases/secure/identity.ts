import { ConsiliumError } from "../../../core/errors.ts";
import { fromHex } from "../../../core/secagg/hex.ts";
import { IdentityRegistration } from "../../../core/schemas/secure-aggregation.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { readJson, writeJson } from "../../repo.ts";

/** A site's registered identity key, or null. */
export async function identityOf(deps: CoordinatorDeps, siteId: string): Promise<Uint8Array | null> {
  const stored = await readJson(deps.store, keys.identity(siteId), IdentityRegistration);
  return stored && fromHex(stored.publicKey);
}

/**
 * `POST /v1/identity`: registers a site's long-term Ed25519 public key, once. The same key again is
 * accepted; another key is refused (a runner that lost its key must be enrolled afresh).
 */
export async function registerIdentity(deps: CoordinatorDeps, siteId: string, registration: IdentityRegistration): Promise<{ registered: boolean }> {
  if (await writeJson(deps.store, keys.identity(siteId), registration, { ifAbsent: true })) return { registered: true };
  const stored = await readJson(deps.store, keys.identity(siteId), IdentityRegistration);
  if (stored?.publicKey !== registration.publicKey) {
    throw new ConsiliumError("IDENTITY_MISMATCH", `site ${siteId} registered another identity key; a site keeps one key for the federation`, 409);
  }
  return { registered: false };
}
