import { describe, expect, it } from "vitest";
import { AuditRecord } from "../../core/audit/trail.ts";
import { parseSiteCredential } from "../../core/site-credential.ts";
import { Harness, type TestSite } from "../../test/support/coordinator.ts";
import { readWholeTrail } from "../use-cases/audit/read-audit.ts";

const DAY = 86_400_000;
const task = (h: Harness, token: string) => h.request("GET", "/v1/task", { token });

describe("site credentials: rotation, expiry, revocation", () => {
  it("rotates a site's credential: the new one works, every one before is refused from its next request, and the trail records it without the token", async () => {
    const h = new Harness();
    const [site] = (await h.startTraining()) as [TestSite];
    const first = await h.admin("POST", `/v1/admin/sites/${site.siteId}/rotate`, {});
    expect(first).toMatchObject({ status: 201, body: { siteId: site.siteId, generation: 1, expiresAt: null } });
    const one = (first.body as { token: string }).token;
    expect(parseSiteCredential(one)).toEqual({ siteId: site.siteId, generation: 1 });
    expect((await task(h, one)).status).toBe(200);
    expect(await task(h, site.token)).toMatchObject({ status: 401, body: { error: { code: "CREDENTIAL_ROTATED" } } });

    const two = ((await h.admin("POST", `/v1/admin/sites/${site.siteId}/rotate`, {})).body as { token: string; generation: number });
    expect(two.generation).toBe(2);
    expect((await task(h, two.token)).status).toBe(200);
    expect(await task(h, one)).toMatchObject({ status: 401, body: { error: { code: "CREDENTIAL_ROTATED" } } });

    const trail = (await readWholeTrail(h.root)).records.map((b) => AuditRecord.parse(JSON.parse(new TextDecoder().decode(b!))));
    expect(trail.filter((r) => r.action === "site.rotate").map((r) => [r.actor.id, r.object, r.outcome])).toEqual([
      ["admin", `site/${site.siteId}`, "ok"],
      ["admin", `site/${site.siteId}`, "ok"],
    ]);
    for (const token of [one, two.token]) expect(JSON.stringify(trail)).not.toContain(token);
  });

  it("tells a credential's holder which credential it is, when it expires and the coordinator's time, recording nothing", async () => {
    const h = new Harness();
    await h.startTraining();
    const bern = (await h.admin("POST", "/v1/admin/sites", { name: "Bern", expiresInDays: 30 })).body as { siteId: string; token: string };
    const trail = async () => (await readWholeTrail(h.root)).records.length;
    const before = await trail();
    const keys = await h.root.store.list("");
    expect(await h.request("GET", "/v1/credential", { token: bern.token })).toEqual({
      status: 200,
      body: { siteId: bern.siteId, name: "Bern", generation: 0, expiresAt: h.root.clock.now() + 30 * DAY, now: h.root.clock.now() },
    });
    const rotated = ((await h.admin("POST", `/v1/admin/sites/${bern.siteId}/rotate`, {})).body as { token: string }).token;
    expect(await h.request("GET", "/v1/credential", { token: rotated })).toMatchObject({ status: 200, body: { generation: 1, expiresAt: null } });
    expect(await h.request("GET", "/v1/credential", { token: bern.token })).toMatchObject({ status: 401, body: { error: { code: "CREDENTIAL_ROTATED" } } });
    expect(await h.request("GET", "/v1/credential", { token: "cs_nobody_c2VjcmV0" })).toMatchObject({ status: 401, body: { error: { code: "BAD_CREDENTIAL" } } });
    // Only the rotation wrote anything: the checks themselves left no record and no object.
    expect(await trail()).toBe(before + 1);
    expect((await h.root.store.list("")).filter((k) => !keys.includes(k) && !k.startsWith("audit/") && !k.startsWith("site-credentials/") && !k.startsWith("failures/"))).toEqual([]);
  });

  it("refuses an expired credential with the remedy, and a rotation gives a working one", async () => {
    const h = new Harness();
    await h.startTraining();
    const enrolled = await h.admin("POST", "/v1/admin/sites", { name: "Bern", expiresInDays: 30 });
    const bern = enrolled.body as { siteId: string; token: string };
    expect((await task(h, bern.token)).status).toBe(200);
    h.root.clock.advance(31 * DAY);
    const expired = await task(h, bern.token);
    expect(expired).toMatchObject({ status: 401, body: { error: { code: "CREDENTIAL_EXPIRED" } } });
    expect((expired.body as { error: { message: string } }).error.message).toMatch(/expired at .*: ask the consortium's operator for a new one \(consilium sites rotate /);
    const rotated = (await h.admin("POST", `/v1/admin/sites/${bern.siteId}/rotate`, { expiresInDays: 365 })).body as { token: string; expiresAt: number };
    expect(rotated.expiresAt).toBe(h.root.clock.now() + 365 * DAY);
    expect((await task(h, rotated.token)).status).toBe(200);
    h.root.clock.advance(366 * DAY);
    expect(await task(h, rotated.token)).toMatchObject({ status: 401, body: { error: { code: "CREDENTIAL_EXPIRED" } } });
    for (const bad of [0, 3651, 1.5, "30"]) expect((await h.admin("POST", `/v1/admin/sites/${bern.siteId}/rotate`, { expiresInDays: bad })).status).toBe(400);
  });

  it("revokes every credential of a site, refuses to rotate a revoked one, and lets one of two racing rotations win", async () => {
    const h = new Harness();
    const [a, b] = (await h.startTraining()) as [TestSite, TestSite];
    const rotated = ((await h.admin("POST", `/v1/admin/sites/${a.siteId}/rotate`, {})).body as { token: string }).token;
    await h.admin("POST", `/v1/admin/sites/${a.siteId}/revoke`);
    expect(await task(h, rotated)).toMatchObject({ status: 401, body: { error: { code: "CREDENTIAL_REVOKED" } } });
    expect(await h.admin("POST", `/v1/admin/sites/${a.siteId}/rotate`, {})).toMatchObject({ status: 409, body: { error: { code: "CREDENTIAL_REVOKED" } } });

    const raced = await Promise.all([h.admin("POST", `/v1/admin/sites/${b.siteId}/rotate`, {}), h.admin("POST", `/v1/admin/sites/${b.siteId}/rotate`, {})]);
    expect(raced.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(raced.find((r) => r.status === 409)?.body).toMatchObject({ error: { code: "CONCURRENT_ROTATION" } });
    expect((await task(h, (raced.find((r) => r.status === 201)!.body as { token: string }).token)).status).toBe(200);
    expect(await h.admin("POST", "/v1/admin/sites/nobody-000000/rotate", {})).toMatchObject({ status: 404, body: { error: { code: "NO_SITE" } } });
  });

  it("treats a forged generation like a wrong secret, telling nothing about which exist", async () => {
    const h = new Harness();
    const [site] = (await h.startTraining()) as [TestSite];
    const secret = site.token.slice(`cs_${site.siteId}_`.length);
    // Generation 1 exists once rotated: its number with another secret is a wrong secret too.
    const rotated = ((await h.admin("POST", `/v1/admin/sites/${site.siteId}/rotate`, {})).body as { token: string }).token;
    const other = rotated.slice(`cs_${site.siteId}.1_`.length).split("").reverse().join("");
    for (const forged of [`cs_${site.siteId}.1_${other}`, `cs_${site.siteId}.1_${secret}`, `cs_${site.siteId}.7_${secret}`, `cs_nobody-000000.1_${secret}`]) {
      expect(await task(h, forged)).toEqual({ status: 401, body: { error: { code: "BAD_CREDENTIAL", message: "unknown site or wrong credential" } } });
    }
    expect((await task(h, `cs_${site.siteId}.0_${secret}`)).body).toMatchObject({ error: { code: "UNAUTHENTICATED" } });
  });
});
