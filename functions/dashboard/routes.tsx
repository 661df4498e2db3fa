/**
 * @module
 * The dashboard, served by the coordinator's own app under `/dashboard` (the one-machine
 * coordinator and the deployed Function URL alike). An operator signs in with their credential (a
 * viewer's is enough; the admin token too): it is kept in an HttpOnly, SameSite=Strict session
 * cookie scoped to `/dashboard` (Secure over https) and checked on every page exactly as the API
 * checks a bearer token, so a revoked operator is refused at the next page; a form posted from
 * another site cannot sign anyone in or out. Pages are server-rendered; the
 * page's main section refreshes itself every few seconds. Every answer carries a strict
 * Content-Security-Policy: scripts, styles and fetches from this origin only, no inline script or
 * style, no frames. A page view is an audit record (`status.read`); a refresh is not.
 */
import { Hono, type Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import { ConsiliumError } from "../../core/errors.ts";
import type { FederationStatus } from "../../core/schemas/status.ts";
import { authenticateOperator } from "../auth.ts";
import type { AppEnv } from "../env.ts";
import { countFailure } from "../use-cases/count-failure.ts";
import { readStatus } from "../use-cases/read-status.ts";
import { activeRunDeps } from "../use-cases/runs/run-scope.ts";
import { ASSETS } from "./assets.generated.ts";
import { listModels } from "../use-cases/registry/models.ts";
import { auditEnd, readAuditPage } from "../use-cases/audit/read-audit.ts";
import { Audit, Layout, Models, Overview, PAGES, Rounds, SignIn, Sites, type AuditFilter } from "./views.tsx";
import type { JSX } from "hono/jsx/jsx-runtime";

export const SESSION_COOKIE = "consilium_session";
/** How often a page refreshes its main section. */
export const REFRESH_MS = 5_000;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

const SignInForm = z.object({ token: z.string().min(1).max(512) });

/**
 * A form posted from another site (login CSRF: signing a person in as someone else, or out) is
 * refused: browsers say where a request comes from in `Sec-Fetch-Site`. Checked instead of the
 * Origin against the request's URL, which a TLS proxy in front of `consilium coordinator` changes.
 */
const refuseCrossSite = async (c: Context<AppEnv>, next: () => Promise<void>) => {
  if (c.req.header("sec-fetch-site") === "cross-site") throw new ConsiliumError("CROSS_SITE", "a form from another site cannot sign in or out here", 403);
  await next();
};

const https = (c: Context<AppEnv>) => new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";

/** The signed-in operator, or null: the cookie's credential checked as the API checks a bearer token. */
async function signedIn(c: Context<AppEnv>): Promise<{ name: string; role: "viewer" | "operator" | "owner" } | null> {
  const token = getCookie(c, SESSION_COOKIE);
  if (!token) return null;
  const deps = c.get("deps");
  try {
    return await authenticateOperator(`Bearer ${token}`, deps.adminToken, deps.store);
  } catch (err) {
    if (!(err instanceof ConsiliumError)) throw err;
    await countFailure(deps, err.code);
    return null;
  }
}


type Body = JSX.Element;

/** What a page reads: the status, the status with each round's updates site by site, or nothing of it (the audit trail). */
type Reads = "status" | "per-site" | "nothing";

/**
 * A page: the whole document, or with `?fragment=main` only its main section (the page's refresh);
 * 401 when not signed in. `render` builds the main section from the active run's status (a page
 * that reads it says "no consortium yet" before one exists) and the request.
 */
function page(path: string, title: string, render: (status: FederationStatus | null, c: Context<AppEnv>) => Promise<Body> | Body, options: { refresh?: boolean; reads?: Reads } = {}) {
  const { refresh = true, reads = "status" } = options;
  return async (c: Context<AppEnv>) => {
    const operator = await signedIn(c);
    // A refresh of the page's main section; any other value is the whole page (and its audit record).
    const fragment = c.req.query("fragment") === "main";
    if (!operator) return fragment ? c.text("signed out", 401) : c.redirect("/dashboard/sign-in", 303);
    c.set("operator", operator);
    c.set("admin", true);
    let status: FederationStatus | null = null;
    if (reads !== "nothing") {
      try {
        status = await readStatus(await activeRunDeps(c.get("deps")), { perSite: reads === "per-site" });
      } catch (err) {
        if (!(err instanceof ConsiliumError && err.code === "NO_FEDERATION")) throw err;
      }
    }
    const body = status || reads === "nothing" ? await render(status, c) : <><h1>{title}</h1><p>No consortium yet: an owner creates it (<code>consilium federation create</code>).</p></>;
    if (fragment) return c.html(String(body));
    return c.html("<!doctype html>" + String(<Layout title={title} path={path} operator={operator} refreshMs={refresh ? REFRESH_MS : undefined}>{body}</Layout>));
  };
}

/** The newest records the audit page reads (and filters) on one view. */
export const AUDIT_WINDOW = 500;

const AuditQuery = z.object({
  actor: z.string().trim().max(64).optional().transform((v) => v || undefined),
  action: z.string().trim().max(64).optional().transform((v) => v || undefined),
  outcome: z.enum(["", "ok", "refused", "failed"]).optional().transform((v) => v || undefined),
  since: z.string().trim().max(40).optional().transform((v) => v || undefined),
});

async function auditPage(_status: FederationStatus | null, c: Context<AppEnv>) {
  const deps = c.get("deps");
  const query = AuditQuery.safeParse(c.req.query());
  const q: z.infer<typeof AuditQuery> = query.success ? query.data : { actor: undefined, action: undefined, outcome: undefined, since: undefined };
  let since: number | undefined;
  let error = query.success ? undefined : "That filter does not read: actor and action up to 64 characters, outcome ok, refused or failed.";
  if (q.since !== undefined) {
    const m = /^(\d{4}-\d{2}-\d{2})(?:[T ]([\d:.]+)(Z|[+-]\d{2}:?\d{2})?)?$/.exec(q.since);
    // Times without a zone are UTC, as the page shows them.
    since = m ? Date.parse(m[2] === undefined ? m[1]! : `${m[1]}T${m[2]}${m[3] ?? "Z"}`) : Number.NaN;
    if (Number.isNaN(since)) {
      error = `"${q.since}" is not a time (ISO 8601, e.g. 2027-01-01 or 2027-01-01T12:00:00Z)`;
      since = undefined;
    }
  }
  const filter: AuditFilter = { ...(q.actor && { actor: q.actor }), ...(q.action && { action: q.action }), ...(q.outcome && { outcome: q.outcome }), ...(since !== undefined && { since }) };
  const end = await auditEnd(deps);
  const { records } = await readAuditPage(deps, { after: Math.max(0, end - AUDIT_WINDOW), limit: AUDIT_WINDOW });
  return <Audit records={records} end={end} window={AUDIT_WINDOW} filter={filter} sinceText={q.since ?? ""} {...(error && { error })} />;
}

export const dashboardRoutes = new Hono<AppEnv>()
  .use(async (c, next) => {
    await next();
    c.header("content-security-policy", CONTENT_SECURITY_POLICY);
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "no-referrer");
    c.header("x-frame-options", "DENY");
    if (!c.req.path.startsWith("/dashboard/assets/")) c.header("cache-control", "no-store");
  })
  .get("/assets/:name", (c) => {
    const name = c.req.param("name");
    // Own keys only: "constructor" or "__proto__" is not an asset.
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) throw new ConsiliumError("NOT_FOUND", "no such asset", 404);
    // Addressed by content (`?v=hash`): cached for good; otherwise revalidated.
    c.header("cache-control", c.req.query("v") === asset.hash ? "public, max-age=31536000, immutable" : "no-cache");
    c.header("content-type", asset.type);
    return c.body(asset.body);
  })
  .get("/sign-in", (c) => c.html("<!doctype html>" + String(<Layout title="Sign in" path="/dashboard/sign-in"><SignIn /></Layout>)))
  .post("/sign-in", refuseCrossSite, async (c) => {
    const deps = c.get("deps");
    const form = SignInForm.safeParse(await c.req.parseBody().catch(() => ({})));
    const refuse = async (code: string) => {
      // Counted like every refusal before authentication, never recorded with what was typed.
      await countFailure(deps, code);
      return c.html("<!doctype html>" + String(<Layout title="Sign in" path="/dashboard/sign-in"><SignIn error="That credential is not accepted." /></Layout>), 401);
    };
    if (!form.success) return refuse("INVALID_BODY");
    let operator: { name: string; role: "viewer" | "operator" | "owner" };
    try {
      operator = await authenticateOperator(`Bearer ${form.data.token}`, deps.adminToken, deps.store);
    } catch (err) {
      if (err instanceof ConsiliumError) return refuse(err.code);
      throw err;
    }
    c.set("operator", operator);
    c.set("admin", true);
    // A session cookie: the browser forgets it when it closes (it is the credential itself, so it is never written to disk for later).
    setCookie(c, SESSION_COOKIE, form.data.token, { httpOnly: true, sameSite: "Strict", path: "/dashboard", secure: https(c) });
    return c.redirect("/dashboard", 303);
  })
  .post("/sign-out", refuseCrossSite, (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: "/dashboard", secure: https(c) });
    return c.redirect("/dashboard/sign-in", 303);
  })
  .get("/", page(PAGES[0].path, PAGES[0].title, (status, c) => <Overview status={status!} now={c.get("deps").clock.now()} />))
  .get("/sites", page(PAGES[1].path, PAGES[1].title, (status) => <Sites status={status!} />, { reads: "per-site" }))
  .get("/rounds", page(PAGES[2].path, PAGES[2].title, (status) => <Rounds status={status!} />))
  .get("/models", page(PAGES[3].path, PAGES[3].title, async (status, c) => <Models status={status!} registry={await listModels(c.get("deps"))} />))
  // The trail does not refresh itself (a reader filtering it keeps what they read), and reads no status.
  .get("/audit", page(PAGES[4].path, PAGES[4].title, auditPage, { refresh: false, reads: "nothing" }));
