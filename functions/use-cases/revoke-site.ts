import { ConsiliumError } from "../../core/errors.ts";
import { SiteRecord, type RotatedCredential, type SiteCredentialRecord } from "../../core/schemas/federation.ts";
import { rotatedSiteCredential } from "../auth.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { readJson, writeJson } from "../repo.ts";

/**
 * `POST /v1/admin/sites/:site/revoke`: the site's credential stops working at once, on every
 * coordinator process (the record is read on each request, never cached). What the site sent
 * before stays as it was; the hospital is enrolled afresh, under another id, to take part again.
 */
export async function revokeSite(deps: CoordinatorDeps, siteId: string): Promise<{ siteId: string; revokedAt: number }> {
  if ((await readJson(deps.store, keys.site(siteId), SiteRecord)) === null) throw new ConsiliumError("NO_SITE", `no site ${siteId} is enrolled`, 404);
  const record = { siteId, revokedAt: deps.clock.now() };
  // Write-once: revoking twice keeps the first time.
  await writeJson(deps.store, keys.revoked(siteId), record, { ifAbsent: true });
  deps.logger.warn("site credential revoked", { siteId });
  return record;
}

/**
 * `POST /v1/admin/sites/:site/rotate`: a new credential for the site (generation n + 1, written
 * once), shown this once; the one before stops working at once on every coordinator process (the
 * next generation's presence is read on every request). Two rotations racing for a generation:
 * one wins, the other is told to look again.
 */
export async function rotateSite(deps: CoordinatorDeps, siteId: string, by: string, expiresInDays?: number): Promise<RotatedCredential> {
  if ((await readJson(deps.store, keys.site(siteId), SiteRecord)) === null) throw new ConsiliumError("NO_SITE", `no site ${siteId} is enrolled`, 404);
  if ((await deps.store.head(keys.revoked(siteId))) !== null) throw new ConsiliumError("CREDENTIAL_REVOKED", `site ${siteId} was revoked: enrol the hospital afresh instead`, 409);
  const prefix = keys.siteCredentialsPrefix(siteId);
  const held = (await deps.store.list(prefix)).map((k) => Number(k.slice(prefix.length, -".json".length))).filter(Number.isSafeInteger);
  const generation = Math.max(0, ...held) + 1;
  const { token, tokenSha256 } = rotatedSiteCredential(siteId, generation);
  const now = deps.clock.now();
  const expiresAt = expiresInDays === undefined ? null : now + expiresInDays * 86_400_000;
  const record: SiteCredentialRecord = { generation, tokenSha256, issuedAt: now, expiresAt, by };
  if (!(await writeJson(deps.store, keys.siteCredential(siteId, generation), record, { ifAbsent: true }))) {
    throw new ConsiliumError("CONCURRENT_ROTATION", `another rotation of site ${siteId} took generation ${generation} first: look again before rotating`, 409);
  }
  deps.logger.warn("site credential rotated", { siteId, generation, by });
  return { siteId, generation, token, expiresAt };
}
