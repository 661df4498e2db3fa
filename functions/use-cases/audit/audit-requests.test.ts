import { describe, expect, it } from "vitest";
import { AuditRecord, verifyChain } from "../../../core/audit/trail.ts";
import { ADMIN_TOKEN, delta, Harness, type TestSite } from "../../../test/support/coordinator.ts";
import { readWholeTrail } from "./read-audit.ts";

async function trail(h: Harness): Promise<AuditRecord[]> {
  const { records } = await readWholeTrail(h.root);
  expect(verifyChain(records).ok).toBe(true);
  return records.map((b) => AuditRecord.parse(JSON.parse(new TextDecoder().decode(b!))));
}

describe("the audit trail of API requests", () => {
  it("records who did what to what: enrolment, statistics, model downloads, updates, status reads; never a token", async () => {
    const h = new Harness();
    const sites = (await h.startTraining()) as TestSite[];
    const task = await h.task(sites[0]!);
    expect(task.kind).toBe("train");
    for (const [i, site] of sites.entries()) await h.submit(site, 1, delta(i + 1), 1);
    await h.status();
    const records = await trail(h);
    const seen = records.map((r) => [r.actor.kind, r.actor.id, r.action, r.object, r.outcome]);
    expect(seen).toContainEqual(["operator", "admin", "consortium.create", "consortium", "ok"]);
    for (const site of sites) {
      expect(seen).toContainEqual(["operator", "admin", "site.enrol", `site/${site.siteId}`, "ok"]);
      expect(seen).toContainEqual(["site", site.siteId, "stats.submit", "stats", "ok"]);
      expect(seen).toContainEqual(["site", site.siteId, "update.submit", "round/1", "ok"]);
    }
    expect(seen).toContainEqual(["site", sites[0]!.siteId, "model.download", "model/0", "ok"]);
    expect(seen).toContainEqual(["operator", "admin", "status.read", "consortium", "ok"]);
    const text = JSON.stringify(records);
    for (const secret of [ADMIN_TOKEN, ...sites.map((s) => s.token)]) expect(text).not.toContain(secret);
  });

  it("records a refusal with its code, and not a request nobody authenticated (that is only counted)", async () => {
    const h = new Harness();
    const [a] = (await h.startTraining()) as [TestSite];
    const before = (await trail(h)).length;
    expect((await h.request("GET", "/v1/task", { token: "not-a-token" })).status).toBe(401);
    expect((await h.request("GET", "/v1/admin/status", { token: "wrong" })).status).toBe(403);
    expect(await trail(h)).toHaveLength(before);
    const late = await h.postUpdate(a, 7, await h.upload(a, 1, delta(1), 1));
    expect(late.status).toBe(400);
    const last = (await trail(h)).at(-1)!;
    expect(last).toMatchObject({ actor: { kind: "site", id: a.siteId }, action: "update.submit", object: "round/7", outcome: "refused" });
    expect(last.code).toMatch(/^[A-Z_]+$/);
  });

  it("answers the trail to the operator in pages, with the exact stored text", async () => {
    const h = new Harness();
    await h.startTraining();
    const page = await h.request("GET", "/v1/admin/audit?after=0&limit=2", { token: ADMIN_TOKEN });
    expect(page.status).toBe(200);
    const body = page.body as { records: { seq: number; text: string }[]; next: number | null; publicKey: string | null };
    expect(body.records.map((r) => r.seq)).toEqual([1, 2]);
    expect(body.next).toBe(2);
    expect(body.publicKey).toBeNull();
    const { records } = await readWholeTrail(h.root);
    expect(body.records[0]!.text).toBe(new TextDecoder().decode(records[0]!));
    expect((await h.request("GET", "/v1/admin/audit?after=-1", { token: ADMIN_TOKEN })).status).toBe(400);
  });
});
