import { describe, expect, it } from "vitest";
import { AuditRecord } from "../../core/audit/trail.ts";
import { ADMIN_TOKEN, Harness } from "../../test/support/coordinator.ts";
import { readWholeTrail } from "../use-cases/audit/read-audit.ts";
import { CONTENT_SECURITY_POLICY, SESSION_COOKIE } from "./routes.tsx";

const form = (token: string) => new URLSearchParams({ token }).toString();

async function signIn(h: Harness, token: string): Promise<Response> {
  return h.app.request("/dashboard/sign-in", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form(token) });
}

describe("the dashboard's pages", () => {
  it("signs an operator in with an HttpOnly cookie, serves the pages under a strict policy, refuses a wrong credential and a revoked operator, and records page views", async () => {
    const h = new Harness();
    const enrolled = await h.startTraining();
    // Not signed in: to the sign-in page; a refresh gets 401.
    expect((await h.app.request("/dashboard")).headers.get("location")).toBe("/dashboard/sign-in");
    expect((await h.app.request("/dashboard?fragment=main")).status).toBe(401);

    const wrong = await signIn(h, "co_nobody_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain("That credential is not accepted.");
    expect(wrong.headers.get("set-cookie")).toBeNull();

    const ok = await signIn(h, ADMIN_TOKEN);
    expect(ok.status).toBe(303);
    const cookie = ok.headers.get("set-cookie")!;
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/dashboard/);
    // A session cookie: no Max-Age or Expires to keep it on disk.
    expect(cookie).not.toMatch(/Max-Age|Expires/i);
    // A form posted from another site signs no one in (login CSRF).
    const crossSite = await h.app.request("/dashboard/sign-in", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "cross-site" }, body: form(ADMIN_TOKEN) });
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get("set-cookie")).toBeNull();
    const session = cookie.split(";")[0]!;

    for (const path of ["/dashboard", "/dashboard/sites", "/dashboard/rounds", "/dashboard/models", "/dashboard/audit"]) {
      const res = await h.app.request(path, { headers: { cookie: session } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-security-policy"), path).toBe(CONTENT_SECURITY_POLICY);
      const html = await res.text();
      expect(html.startsWith("<!doctype html>"), path).toBe(true);
      // No inline script or style: the policy would refuse them.
      expect(html, path).not.toMatch(/<script(?![^>]*(src=|type="application\/json"))/);
      expect(html, path).not.toMatch(/ style="/);
    }
    const sites = await (await h.app.request("/dashboard/sites", { headers: { cookie: session } })).text();
    expect(enrolled.length).toBeGreaterThan(1);
    for (const site of enrolled) expect(sites).toContain(site.siteId);
    // The audit page filters; a filter that does not read says why and shows the unfiltered tail.
    const filtered = await (await h.app.request("/dashboard/audit?action=site.", { headers: { cookie: session } })).text();
    expect(filtered.match(/<tr data-seq=/g)?.length).toBe(enrolled.length);
    const badSince = await (await h.app.request("/dashboard/audit?since=yesterday", { headers: { cookie: session } })).text();
    expect(badSince).toContain("&quot;yesterday&quot; is not a time");
    const tooLong = await h.app.request(`/dashboard/audit?actor=${"x".repeat(65)}`, { headers: { cookie: session } });
    expect(tooLong.status).toBe(200);
    expect(await tooLong.text()).toContain("That filter does not read");
    const fragment = await h.app.request("/dashboard?fragment=main", { headers: { cookie: session } });
    expect(fragment.status).toBe(200);
    expect(await fragment.text()).not.toContain("<html");
    // Any other fragment value is the whole page, and recorded as one.
    const whole = await h.app.request("/dashboard?fragment=all", { headers: { cookie: session } });
    expect(await whole.text()).toContain("<html");

    // An operator's session ends when the operator is revoked.
    const added = await h.admin("POST", "/v1/admin/operators", { name: "vera", role: "viewer" });
    const vera = (added.body as { token: string }).token;
    const veraSession = (await signIn(h, vera)).headers.get("set-cookie")!.split(";")[0]!;
    expect((await h.app.request("/dashboard", { headers: { cookie: veraSession } })).status).toBe(200);
    expect((await h.admin("POST", "/v1/admin/operators/vera/revoke", {})).status).toBe(200);
    expect((await h.app.request("/dashboard", { headers: { cookie: veraSession } })).headers.get("location")).toBe("/dashboard/sign-in");

    // Page views and sign-ins are in the trail; refreshes and refusals are not.
    const records = (await readWholeTrail(h.root)).records.map((b) => AuditRecord.parse(JSON.parse(new TextDecoder().decode(b!))));
    const dashboard = records.filter((r) => r.object.startsWith("dashboard"));
    expect(dashboard.map((r) => [r.actor.id, r.action, r.object])).toEqual([
      ["admin", "operator.sign-in", "dashboard"],
      ["admin", "status.read", "dashboard/overview"],
      ["admin", "status.read", "dashboard/sites"],
      ["admin", "status.read", "dashboard/rounds"],
      ["admin", "model.list", "dashboard/models"],
      ["admin", "audit.read", "dashboard/audit"],
      ["admin", "status.read", "dashboard/sites"],
      ["admin", "audit.read", "dashboard/audit"],
      ["admin", "audit.read", "dashboard/audit"],
      ["admin", "audit.read", "dashboard/audit"],
      ["admin", "status.read", "dashboard/overview"],
      ["vera", "operator.sign-in", "dashboard"],
      ["vera", "status.read", "dashboard/overview"],
    ]);
  });

  it("serves its assets by content hash, and nothing it does not have", async () => {
    const h = new Harness();
    const js = await h.app.request("/dashboard/assets/uplot.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect((await h.app.request("/dashboard/assets/secret.js")).status).toBe(404);
    // The asset table's inherited keys are not assets.
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"]) expect((await h.app.request(`/dashboard/assets/${name}`)).status, name).toBe(404);
  });
});
