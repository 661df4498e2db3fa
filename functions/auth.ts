import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ConsiliumError } from "../core/errors.ts";
import { SiteCredentialRecord, SiteRecord } from "../core/schemas/federation.ts";
import { OperatorRecord, operatorOfCredential, type OperatorRole } from "../core/schemas/operators.ts";
import { parseSiteCredential, siteIdOfCredential } from "../core/site-credential.ts";
import { keys } from "./keys.ts";
import type { ObjectStore } from "./ports.ts";
import { readJson } from "./repo.ts";

export const sha256Text = (s: string): string => createHash("sha256").update(s).digest("hex");

function equalSecret(a: string, b: string): boolean {
  const x = Buffer.from(sha256Text(a));
  const y = Buffer.from(sha256Text(b));
  return timingSafeEqual(x, y);
}

function bearer(header: string | undefined): string {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  if (!m?.[1]) throw new ConsiliumError("UNAUTHENTICATED", "missing bearer token", 401);
  return m[1];
}

/**
 * Admin requests carry the consortium's admin token. A refusal says which of three things is so:
 * the coordinator has none set, a site credential was sent, or the token is wrong.
 */
export function requireAdmin(header: string | undefined, adminToken: string): void {
  const token = bearer(header);
  if (adminToken === "") throw new ConsiliumError("FORBIDDEN", "this coordinator has no admin token set, so it refuses every admin request but a named operator's", 403);
  if (equalSecret(token, adminToken)) return;
  if (siteIdOfCredential(token) !== null) throw new ConsiliumError("FORBIDDEN", "a site credential cannot make admin requests: send the consortium's admin token", 403);
  throw new ConsiliumError("FORBIDDEN", "wrong admin token: this is not the coordinator's admin token", 403);
}

/** Stands in for an unknown operator's hash, so that the comparison runs as for any other. */
const NO_OPERATOR_HASH = sha256Text("no operator has this name");

/**
 * Who an admin request comes from: the bootstrap owner (`admin`, the consortium's admin token) or
 * a named operator (`co_<name>_<secret>`, its record read on every request, so a revocation holds
 * at once on every instance). An unknown name and a wrong secret get the same answer.
 */
export async function authenticateOperator(header: string | undefined, adminToken: string, store: ObjectStore): Promise<{ name: string; role: OperatorRole }> {
  const token = bearer(header);
  const name = operatorOfCredential(token);
  if (name === null) {
    requireAdmin(header, adminToken);
    return { name: "admin", role: "owner" };
  }
  // Only an absent record is an unknown operator; a store that fails fails the request.
  const record = await readJson(store, keys.operator(name), OperatorRecord);
  const ok = timingSafeEqual(Buffer.from(sha256Text(token)), Buffer.from(record?.tokenSha256 ?? NO_OPERATOR_HASH));
  if (!record || !ok) throw new ConsiliumError("FORBIDDEN", "unknown operator or wrong credential", 403);
  if ((await store.head(keys.operatorRevoked(name))) !== null) throw new ConsiliumError("CREDENTIAL_REVOKED", `the credential of operator ${name} was revoked`, 401);
  return { name, role: record.role };
}

/** An operator credential is `co_<name>_<secret>`; only its hash is stored. */
export function newOperatorCredential(name: string): { token: string; tokenSha256: string } {
  const token = `co_${name}_${randomBytes(24).toString("base64url")}`;
  return { token, tokenSha256: sha256Text(token) };
}

/** A site credential is `cs_<siteId>_<secret>`; only the secret's hash is stored. */
export function newSiteCredential(siteId: string): { token: string; tokenSha256: string } {
  const token = `cs_${siteId}_${randomBytes(24).toString("base64url")}`;
  return { token, tokenSha256: sha256Text(token) };
}

/** Stands in for an unknown site's hash, so that its credential is compared like any other. */
const NO_SITE_HASH = sha256Text("no site is enrolled under this id");

/**
 * The site whose credential the bearer token is. An unknown site and a wrong secret get the same
 * answer after the same comparison: the refusal must not tell an outsider which site ids exist.
 */
export async function authenticateSite(header: string | undefined, store: ObjectStore, now: number = Date.now()): Promise<SiteRecord> {
  return (await authenticateSiteCredential(header, store, now)).site;
}

/** The site a credential names and which of its credentials it is: the generation, and when it expires (null: never). */
export interface SiteCredential {
  readonly site: SiteRecord;
  readonly generation: number;
  readonly expiresAt: number | null;
}

/** `authenticateSite`, with which of the site's credentials was presented. */
export async function authenticateSiteCredential(header: string | undefined, store: ObjectStore, now: number = Date.now()): Promise<SiteCredential> {
  const token = bearer(header);
  const parsed = parseSiteCredential(token);
  if (!parsed) throw new ConsiliumError("UNAUTHENTICATED", "malformed site credential", 401);
  const { siteId, generation } = parsed;
  // Every read at once, whatever the credential: the site's record and its generation's (cached once
  // read) beside the two marks that are never cached, so that an unknown site, an unknown
  // generation and a wrong secret take the same time and get the same answer. Only an absent
  // object counts as unknown; a store that fails fails the request (5xx), for the site to retry.
  const [site, issued, revoked, next] = await Promise.all([
    readJson(store, keys.site(siteId), SiteRecord),
    generation === 0 ? Promise.resolve(null) : readJson(store, keys.siteCredential(siteId, generation), SiteCredentialRecord),
    store.head(keys.revoked(siteId)),
    store.head(keys.siteCredential(siteId, generation + 1)),
  ]);
  // Generation 0 is enrolment's credential, in the site's record; a later one, its rotation's record.
  const expected = site === null ? undefined : generation === 0 ? site.tokenSha256 : issued?.tokenSha256;
  const ok = timingSafeEqual(Buffer.from(sha256Text(token)), Buffer.from(expected ?? NO_SITE_HASH));
  if (!site || expected === undefined || !ok) throw new ConsiliumError("BAD_CREDENTIAL", "unknown site or wrong credential", 401);
  // Only a holder of the credential learns it was revoked, replaced or has expired.
  if (revoked !== null) throw new ConsiliumError("CREDENTIAL_REVOKED", `the credential of site ${siteId} was revoked`, 401);
  if (next !== null) throw new ConsiliumError("CREDENTIAL_ROTATED", `this credential of site ${siteId} was replaced by a newer one (generation ${generation + 1}): use the credential the rotation printed`, 401);
  const expiresAt = generation === 0 ? site.expiresAt : (issued?.expiresAt ?? undefined);
  if (expiresAt !== undefined && now >= expiresAt) throw new ConsiliumError("CREDENTIAL_EXPIRED", `the credential of site ${siteId} expired at ${new Date(expiresAt).toISOString()}: ask the consortium's operator for a new one (consilium sites rotate ${siteId})`, 401);
  return { site, generation, expiresAt: expiresAt ?? null };
}

/** A rotated site credential `cs_<siteId>.<generation>_<secret>`; only its hash is stored. */
export function rotatedSiteCredential(siteId: string, generation: number): { token: string; tokenSha256: string } {
  const token = `cs_${siteId}.${generation}_${randomBytes(24).toString("base64url")}`;
  return { token, tokenSha256: sha256Text(token) };
}

