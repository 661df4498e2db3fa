import { ConsiliumError } from "../../core/errors.ts";
import { SiteRecord } from "../../core/schemas/federation.ts";
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
