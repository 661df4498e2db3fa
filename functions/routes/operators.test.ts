import { describe, expect, it } from "vitest";
import { AuditRecord } from "../../core/audit/trail.ts";
import { ADMIN_TOKEN, Harness, type TestSite } from "../../test/support/coordinator.ts";
import { readWholeTrail } from "../use-cases/audit/read-audit.ts";

async function addOperator(h: Harness, name: string, role: string) {
  const res = await h.admin("POST", "/v1/admin/operators", { name, role });
  expect(res.status).toBe(201);
  return (res.body as { token: string }).token;
}

async function trail(h: Harness): Promise<AuditRecord[]> {
  return (await readWholeTrail(h.root)).records.map((b) => AuditRecord.parse(JSON.parse(new TextDecoder().decode(b!))));
}

describe("named operators and their roles", () => {
  it("lets a viewer read but not enrol a site or promote a model, naming the role; an operator enrols; only an owner adds operators", async () => {
    const h = new Harness();
    await h.startTraining();
    const viewer = await addOperator(h, "dana", "viewer");
    const operator = await addOperator(h, "omar", "operator");
    expect(viewer).toMatch(/^co_dana_[A-Za-z0-9_-]{32}$/);

    expect((await h.request("GET", "/v1/admin/status", { token: viewer })).status).toBe(200);
    expect((await h.request("GET", "/v1/admin/audit", { token: viewer })).status).toBe(200);
    expect(await h.request("POST", "/v1/admin/sites", { token: viewer, json: { name: "Bern" } })).toEqual({
      status: 403,
      body: { error: { code: "ROLE_FORBIDDEN", message: "operator dana is a viewer: enrolling a site needs the operator role" } },
    });
    expect(await h.request("POST", "/v1/admin/models/1/promote", { token: viewer, json: { reason: "looks better" } })).toMatchObject({
      status: 403,
      body: { error: { code: "ROLE_FORBIDDEN", message: "operator dana is a viewer: promoting a model needs the operator role" } },
    });
    expect((await h.request("POST", "/v1/admin/sites", { token: operator, json: { name: "Bern" } })).status).toBe(201);
    expect(await h.request("POST", "/v1/admin/operators", { token: operator, json: { name: "eve", role: "owner" } })).toMatchObject({
      status: 403,
      body: { error: { code: "ROLE_FORBIDDEN", message: "operator omar is a operator: adding an operator needs the owner role" } },
    });

    // The trail names who did each, refusals included with their code.
    const records = await trail(h);
    expect(records.map((r) => [r.actor.id, r.action, r.outcome, r.code ?? null])).toEqual(
      expect.arrayContaining([
        ["admin", "operator.add", "ok", null],
        ["dana", "status.read", "ok", null],
        ["dana", "site.enrol", "refused", "ROLE_FORBIDDEN"],
        ["omar", "site.enrol", "ok", null],
      ]),
    );
    for (const secret of [viewer, operator, ADMIN_TOKEN]) expect(JSON.stringify(records)).not.toContain(secret);
  });

  it("refuses a revoked operator on its next request, the revocation in the audit trail, and never reuses a name", async () => {
    const h = new Harness();
    await h.startTraining();
    const viewer = await addOperator(h, "dana", "viewer");
    expect((await h.request("GET", "/v1/admin/status", { token: viewer })).status).toBe(200);
    expect((await h.admin("POST", "/v1/admin/operators/dana/revoke")).status).toBe(200);
    expect(await h.request("GET", "/v1/admin/status", { token: viewer })).toEqual({ status: 401, body: { error: { code: "CREDENTIAL_REVOKED", message: "the credential of operator dana was revoked" } } });
    expect((await trail(h)).some((r) => r.actor.id === "admin" && r.action === "operator.revoke" && r.object === "name/dana")).toBe(true);
    expect(await h.admin("POST", "/v1/admin/operators", { name: "dana", role: "viewer" })).toMatchObject({ status: 409, body: { error: { code: "OPERATOR_EXISTS" } } });
    const listed = (await h.admin("GET", "/v1/admin/operators")).body as { operators: Record<string, unknown>[] };
    expect(listed.operators).toEqual([{ name: "dana", role: "viewer", createdAt: expect.any(Number), createdBy: "admin", revokedAt: expect.any(Number) }]);
    expect(JSON.stringify(listed)).not.toMatch(/tokenSha256|[0-9a-f]{64}/);
  });

  it("answers an unknown operator and a wrong secret alike, counted and not recorded, and refuses bad names", async () => {
    const h = new Harness();
    const [site] = (await h.startTraining()) as [TestSite];
    const dana = await addOperator(h, "dana", "viewer");
    const before = (await trail(h)).length;
    const wrong = await h.request("GET", "/v1/admin/status", { token: `${dana.slice(0, -4)}AAAA` });
    const unknown = await h.request("GET", "/v1/admin/status", { token: "co_nobody_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
    expect(wrong).toEqual({ status: 403, body: { error: { code: "FORBIDDEN", message: "unknown operator or wrong credential" } } });
    expect(unknown).toEqual(wrong);
    expect((await h.request("GET", "/v1/admin/status", { token: site.token })).status).toBe(403);
    expect(await trail(h)).toHaveLength(before);
    const forbidden = (await h.status()).failures?.filter((f) => f.code === "FORBIDDEN").reduce((n, f) => n + f.count, 0);
    expect(forbidden).toBe(3);
    for (const name of ["admin", "Dana", "-x", "a".repeat(64)]) expect((await h.admin("POST", "/v1/admin/operators", { name, role: "viewer" })).status).toBe(400);
    expect((await h.admin("POST", "/v1/admin/operators", { name: "x", role: "god" })).status).toBe(400);
  });

  it("keeps each role to its routes: a viewer neither revokes nor rotates, an operator neither rotates nor creates, and an operator's credential is no site's", async () => {
    const h = new Harness();
    const [site] = (await h.startTraining()) as [TestSite];
    const viewer = await addOperator(h, "dana", "viewer");
    const operator = await addOperator(h, "omar", "operator");
    const code = async (token: string, method: string, path: string, json?: unknown) => ((await h.request(method, path, { token, ...(json !== undefined && { json }) })).body as { error?: { code: string } }).error?.code;
    expect(await code(viewer, "POST", `/v1/admin/sites/${site.siteId}/revoke`)).toBe("ROLE_FORBIDDEN");
    expect(await code(viewer, "POST", `/v1/admin/sites/${site.siteId}/rotate`, {})).toBe("ROLE_FORBIDDEN");
    expect(await code(operator, "POST", `/v1/admin/sites/${site.siteId}/rotate`, {})).toBe("ROLE_FORBIDDEN");
    expect(await code(operator, "POST", "/v1/admin/federation", {})).toBe("ROLE_FORBIDDEN");
    expect(await code(operator, "GET", "/v1/task")).toBe("UNAUTHENTICATED");
    expect((await h.request("GET", "/v1/task", { token: site.token })).status).toBe(200);
  });
});
