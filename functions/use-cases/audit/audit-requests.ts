/**
 * @module
 * One audit record per authenticated API request that changes state or reaches model or site data
 * (`AUDITED`): who (the site its credential names, or the operator), what (a stable action
 * name), on what, and the outcome (with the refusal's code). A task poll or a champion pull is
 * recorded when it hands out a model, once per site, run and model (a download, by whom: marked
 * write-once under `audit/downloads/`); an unauthenticated refusal is counted, not recorded
 * (`count-failure.ts`). Actions the coordinator takes on its own (rounds opening and closing,
 * runs, the gate) are recorded where they happen.
 */
import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import { ConsiliumError } from "../../../core/errors.ts";
import type { AuditEvent } from "../../../core/audit/trail.ts";
import type { AppEnv } from "../../env.ts";
import { keys } from "../../keys.ts";
import { consortiumDeps } from "../runs/run-scope.ts";
import { appendAudit } from "./append-audit.ts";

type Body = Record<string, unknown> | null;
interface Audited {
  readonly action: string;
  /** What the request acted on; null: not recorded (a task poll that handed out no model). */
  readonly object: (c: Context<AppEnv>, body: Body) => string | null;
}

const param = (name: string) => (c: Context<AppEnv>) => `${name}/${c.req.param(name) ?? "?"}`;
const fixed = (object: string) => () => object;
/** A dashboard page's refresh of its main section (the page itself was recorded when it was opened). */
const refresh = (c: Context<AppEnv>) => c.req.query("fragment") === "main";
const version = (body: Body): number | null => {
  const model = body?.model as { version?: unknown } | undefined;
  return typeof model?.version === "number" ? model.version : null;
};

/** Method and route → what is recorded. Routes not listed are not recorded (health, the cron's own HTTP trigger). */
export const AUDITED: Readonly<Record<string, Audited>> = {
  "POST /v1/admin/federation": { action: "consortium.create", object: fixed("consortium") },
  "POST /v1/admin/sites": { action: "site.enrol", object: (_c, body) => `site/${typeof body?.siteId === "string" ? body.siteId : "?"}` },
  "POST /v1/admin/sites/:site/revoke": { action: "site.revoke", object: param("site") },
  // The answer carries the new credential: the object is the path's site only.
  "POST /v1/admin/sites/:site/rotate": { action: "site.rotate", object: param("site") },
  "GET /v1/admin/status": { action: "status.read", object: fixed("consortium") },
  "PUT /v1/admin/validation": { action: "validation.replace", object: fixed("validation") },
  "GET /v1/admin/models": { action: "model.list", object: fixed("registry") },
  "GET /v1/admin/models/:version": { action: "model.read", object: param("version") },
  "POST /v1/admin/models/:version/promote": { action: "model.promote", object: param("version") },
  "POST /v1/admin/models/rollback": { action: "model.rollback", object: fixed("registry") },
  "GET /v1/admin/runs": { action: "run.list", object: fixed("runs") },
  "POST /v1/admin/runs": { action: "run.request", object: fixed("runs") },
  "POST /v1/admin/runs/abandon": { action: "run.abandon", object: fixed("runs") },
  "GET /v1/admin/audit": { action: "audit.read", object: fixed("audit") },
  // The dashboard: a page viewed, not each refresh of it; a sign-in.
  "GET /dashboard": { action: "status.read", object: (c) => (refresh(c) ? null : "dashboard/overview") },
  "GET /dashboard/sites": { action: "status.read", object: (c) => (refresh(c) ? null : "dashboard/sites") },
  "GET /dashboard/rounds": { action: "status.read", object: (c) => (refresh(c) ? null : "dashboard/rounds") },
  "GET /dashboard/models": { action: "model.list", object: (c) => (refresh(c) ? null : "dashboard/models") },
  "GET /dashboard/audit": { action: "audit.read", object: () => "dashboard/audit" },
  "POST /dashboard/sign-in": { action: "operator.sign-in", object: fixed("dashboard") },
  // The answer carries the new credential: only its name is taken from it.
  "POST /v1/admin/operators": { action: "operator.add", object: (_c, body) => `operator/${typeof body?.name === "string" ? body.name : "?"}` },
  "GET /v1/admin/operators": { action: "operator.list", object: fixed("operators") },
  "POST /v1/admin/operators/:name/revoke": { action: "operator.revoke", object: param("name") },
  "GET /v1/task": {
    action: "model.download",
    object: (_c, body) => {
      const v = body?.kind === "train" || body?.kind === "evaluate" ? version(body) : null;
      return v === null ? null : `model/${v}`;
    },
  },
  "POST /v1/stats": { action: "stats.submit", object: fixed("stats") },
  "POST /v1/rounds/:round/updates": { action: "update.submit", object: param("round") },
  "POST /v1/rounds/:round/declines": { action: "round.decline", object: param("round") },
  "POST /v1/identity": { action: "identity.register", object: fixed("identity") },
  "POST /v1/rounds/:round/secure": { action: "secure.submit", object: param("round") },
  "POST /v1/evaluations": { action: "evaluation.submit", object: fixed("evaluation") },
  "GET /v1/champion": {
    action: "model.download",
    object: (_c, body) => {
      const v = version((body?.champion as Body) ?? null);
      return v === null ? null : `registry/${v}`;
    },
  },
  "POST /v1/checkins": { action: "checkin.submit", object: fixed("checkin") },
  "GET /v1/models/:version": { action: "model.download", object: param("version") },
};

/**
 * Records the request `c` has just been answered; null when it is not one to record. The error
 * that answered it, if any, gives the outcome and code.
 */
export async function auditRequest(c: Context<AppEnv>, error: Error | undefined): Promise<AuditEvent | null> {
  const site = c.get("site");
  const admin = c.get("admin");
  if (!site && !admin) return null;
  // The route that answered: the last matched that is not a middleware (those match every method).
  const route = matchedRoutes(c).findLast((r) => r.method !== "ALL");
  const audited = route && AUDITED[`${c.req.method} ${route.path}`];
  if (audited === undefined) return null;
  const ok = c.res.status < 400;
  let body: Body = null;
  if (ok && c.res.headers.get("content-type")?.includes("application/json")) body = (await c.res.clone().json().catch(() => null)) as Body;
  const raw = audited.object(c, body);
  if (raw === null) return null;
  // An object named by the caller (a path parameter) is clipped, so that a long one is still recorded.
  const object = raw.length > 256 ? `${raw.slice(0, 240)}…(${raw.length} chars)` : raw;
  const deps = c.get("deps");
  // A model handed to a site is recorded once per site and model: a following site asks for the champion every minute.
  // A run's models are numbered from 0 again: the run is part of what was downloaded (the registry's versions are the consortium's).
  const marker = ok && audited.action === "model.download" && site ? keys.auditDownload(site.id, `${object.startsWith("registry/") ? "" : `run-${deps.run?.seq ?? 0}-`}${object}`.replace(/[^a-z0-9-]/g, "_")) : null;
  const markers = consortiumDeps(deps).store;
  if (marker !== null && (await markers.head(marker)) !== null) return null;
  const event: AuditEvent = {
    at: deps.clock.now(),
    actor: site ? { kind: "site", id: site.id } : { kind: "operator", id: c.get("operator")?.name ?? "admin" },
    action: audited.action,
    object,
    outcome: ok ? "ok" : c.res.status >= 500 ? "failed" : "refused",
    ...(!ok && { code: error instanceof ConsiliumError ? error.code : c.res.status >= 500 ? "INTERNAL" : `HTTP_${c.res.status}` }),
    ...(deps.run && { detail: { run: deps.run.seq } }),
  };
  await appendAudit(deps, event);
  // Marked after the record: a crash between the two records the download again rather than never (two racing polls may both record it).
  if (marker !== null) await markers.put(marker, "{}", { ifAbsent: true });
  return event;
}
