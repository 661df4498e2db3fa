/**
 * @module
 * The dashboard, served by the coordinator's own app under `/dashboard` (the one-machine
 * coordinator and the deployed Function URL alike). An operator signs in with their credential (a
 * viewer's is enough; the admin token too): it is kept in an HttpOnly, SameSite=Strict cookie
 * scoped to `/dashboard` (Secure over https) and checked on every page exactly as the API checks a
 * bearer token, so a revoked operator is refused at the next page. Pages are server-rendered; the
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
import { Layout, Overview, PAGES, SignIn, Sites } from "./views.tsx";

export const SESSION_COOKIE = "consilium_session";
/** How long a sign-in lasts. */
const SESSION_SECONDS = 8 * 60 * 60;
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

type Page = (p: { status: FederationStatus }) => ReturnType<typeof Overview>;

/** A page: the whole document, or with `?fragment=main` only its main section (the page's refresh); 401 when not signed in. */
function page(path: string, title: string, Body: Page) {
  return async (c: Context<AppEnv>) => {
    const operator = await signedIn(c);
    const fragment = c.req.query("fragment") === "main";
    if (!operator) return fragment ? c.text("signed out", 401) : c.redirect("/dashboard/sign-in", 303);
    c.set("operator", operator);
    c.set("admin", true);
    const deps = await activeRunDeps(c.get("deps"));
    let status: FederationStatus | null = null;
    try {
      status = await readStatus(deps);
    } catch (err) {
      if (!(err instanceof ConsiliumError && err.code === "NO_FEDERATION")) throw err;
    }
    const body = status ? <Body status={status} /> : <><h1>{title}</h1><p>No consortium yet: an owner creates it (<code>consilium federation create</code>).</p></>;
    if (fragment) return c.html(body);
    return c.html("<!doctype html>" + String(<Layout title={title} path={path} operator={operator} refreshMs={REFRESH_MS}>{body}</Layout>));
  };
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
    const asset = ASSETS[c.req.param("name")];
    if (!asset) throw new ConsiliumError("NOT_FOUND", "no such asset", 404);
    // Addressed by content (`?v=hash`): cached for good; otherwise revalidated.
    c.header("cache-control", c.req.query("v") === asset.hash ? "public, max-age=31536000, immutable" : "no-cache");
    c.header("content-type", asset.type);
    return c.body(asset.body);
  })
  .get("/sign-in", (c) => c.html("<!doctype html>" + String(<Layout title="Sign in" path="/dashboard/sign-in"><SignIn /></Layout>)))
  .post("/sign-in", async (c) => {
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
    setCookie(c, SESSION_COOKIE, form.data.token, { httpOnly: true, sameSite: "Strict", path: "/dashboard", secure: https(c), maxAge: SESSION_SECONDS });
    return c.redirect("/dashboard", 303);
  })
  .post("/sign-out", (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: "/dashboard", secure: https(c) });
    return c.redirect("/dashboard/sign-in", 303);
  })
  .get("/", page(PAGES[0].path, PAGES[0].title, Overview))
  .get("/sites", page(PAGES[1].path, PAGES[1].title, Sites));
