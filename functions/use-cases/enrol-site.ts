import { randomBytes } from "node:crypto";
import { ConsiliumError } from "../../core/errors.ts";
import type { EnrolResponse, SiteRecord } from "../../core/schemas/federation.ts";
import { newSiteCredential } from "../auth.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { writeJson } from "../repo.ts";

const DAY_MS = 86_400_000;

/** Gives a hospital its identity and credential (expiring after `expiresInDays` when given); the credential is shown once, only its hash kept. */
export async function enrolSite(deps: CoordinatorDeps, name: string, id?: string, expiresInDays?: number): Promise<EnrolResponse> {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 24) || "site";
  const siteId = id ?? `${slug}-${randomBytes(3).toString("hex")}`;
  const { token, tokenSha256 } = newSiteCredential(siteId);
  const now = deps.clock.now();
  const record: SiteRecord = { id: siteId, name, tokenSha256, enrolledAt: now, ...(expiresInDays !== undefined && { expiresAt: now + expiresInDays * DAY_MS }) };
  // On an id collision the stored hash is another site's: this credential would never authenticate.
  if (!(await writeJson(deps.store, keys.site(siteId), record, { ifAbsent: true }))) {
    throw new ConsiliumError("SITE_ID_TAKEN", `site id ${siteId} is taken; ${id ? "choose another" : "enrol again"}`, 409);
  }
  deps.logger.info("site enrolled", { siteId, name });
  return { siteId, token };
}
