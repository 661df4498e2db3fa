import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { auditSigningKey, AuditRecord, verifyChain, type AuditEvent } from "../../../core/audit/trail.ts";
import { testDeps } from "../../../test/support/coordinator.ts";
import { keys } from "../../keys.ts";
import { appendAudit, CHECKPOINT_EVERY, checkpointNow } from "./append-audit.ts";
import { readAuditPage, readWholeTrail } from "./read-audit.ts";

const event = (i: number, actor = "st-mary"): AuditEvent => ({ at: i, actor: { kind: "site", id: actor }, action: "update.submit", object: `round/${i}`, outcome: "ok" });

describe("appending to the audit trail", () => {
  it("never forks the chain under concurrent writers: every record once, each linked to the one before", async () => {
    const deps = testDeps();
    const appended = await Promise.all(Array.from({ length: 40 }, (_, i) => appendAudit(deps, event(i, `site-${i % 4}`))));
    const trail = await readWholeTrail(deps);
    expect(verifyChain(trail.records)).toMatchObject({ ok: true, records: 40 });
    const objects = trail.records.map((b) => AuditRecord.parse(JSON.parse(new TextDecoder().decode(b!))).object).sort();
    expect(objects).toEqual(Array.from({ length: 40 }, (_, i) => `round/${i}`).sort());
    expect(new Set(appended.map((a) => a.record.seq)).size).toBe(40);
  });

  it("links correctly whatever the head hint says: stale, rewound or unreadable", async () => {
    const deps = testDeps();
    for (let i = 0; i < 5; i++) await appendAudit(deps, event(i));
    await deps.store.put(keys.auditHead, JSON.stringify({ seq: 2, hash: "0".repeat(64) }));
    await appendAudit(deps, event(5));
    await deps.store.put(keys.auditHead, "{not json");
    await appendAudit(deps, event(6));
    await deps.store.delete(keys.auditHead);
    await appendAudit(deps, event(7));
    expect(verifyChain((await readWholeTrail(deps)).records)).toMatchObject({ ok: true, records: 8 });
  });

  it("links to the record as stored, never to the hint's hash, and signs only what is stored", async () => {
    const key = auditSigningKey(randomBytes(32).toString("hex"));
    const deps = { ...testDeps(), auditKey: key };
    for (let i = 0; i < 5; i++) await appendAudit(deps, event(i));
    // A hint with the right sequence and a wrong hash, then one past the end.
    await deps.store.put(keys.auditHead, JSON.stringify({ seq: 5, hash: "f".repeat(64) }));
    await appendAudit(deps, event(5));
    await deps.store.put(keys.auditHead, JSON.stringify({ seq: 40, hash: "e".repeat(64) }));
    const signed = await checkpointNow(deps);
    expect(signed?.seq).toBe(6);
    await appendAudit(deps, event(6));
    const trail = await readWholeTrail(deps);
    expect(verifyChain(trail.records, trail.checkpoints, key.publicKey)).toMatchObject({ ok: true, records: 7 });
  });

  it("finds the end of a long trail whose hint is lost in a few reads, not one per record", async () => {
    const deps = testDeps();
    for (let i = 0; i < 300; i++) await appendAudit(deps, event(i));
    await deps.store.delete(keys.auditHead);
    let reads = 0;
    const counted = { ...deps, store: new Proxy(deps.store, { get: (t, p, r) => (p === "get" || p === "head" ? (...a: unknown[]) => (reads++, (Reflect.get(t, p, r) as (...x: unknown[]) => unknown).apply(t, a)) : Reflect.get(t, p, r)) }) };
    const { record } = await appendAudit(counted, event(300));
    expect(record.seq).toBe(301);
    // 2 log2(300) probes and halvings, the hint and the last record: about 20.
    expect(reads).toBeLessThan(25);
    expect(verifyChain((await readWholeTrail(deps)).records)).toMatchObject({ ok: true, records: 301 });
  });

  it("signs a checkpoint every CHECKPOINT_EVERY records and on demand, which verification holds the chain to", async () => {
    const key = auditSigningKey(randomBytes(32).toString("hex"));
    const deps = { ...testDeps(), auditKey: key };
    for (let i = 0; i < CHECKPOINT_EVERY + 5; i++) await appendAudit(deps, event(i));
    const now = await checkpointNow(deps);
    expect(now?.seq).toBe(CHECKPOINT_EVERY + 5);
    expect(await checkpointNow(deps)).toBeNull();
    const trail = await readWholeTrail(deps);
    expect(trail.checkpoints.map((c) => c.seq)).toEqual([1, CHECKPOINT_EVERY + 1, CHECKPOINT_EVERY + 5]);
    expect(verifyChain(trail.records, trail.checkpoints, key.publicKey)).toMatchObject({ ok: true, checkpoint: CHECKPOINT_EVERY + 5 });
    // The tail cut behind the last checkpoint.
    await deps.store.delete(keys.auditRecord(CHECKPOINT_EVERY + 5));
    const cut = await readWholeTrail(deps);
    expect(verifyChain(cut.records, cut.checkpoints, key.publicKey).problem).toMatchObject({ seq: CHECKPOINT_EVERY + 5, problem: "truncated" });
  });

  it("refuses an event that could not be read back, writing nothing", async () => {
    const deps = testDeps();
    await expect(appendAudit(deps, { ...event(1), action: "Not An Action" })).rejects.toThrow();
    expect(await deps.store.list(keys.auditRecordsPrefix)).toEqual([]);
  });

  it("pages the trail by sequence ranges, a gap shown as a gap", async () => {
    const deps = testDeps();
    for (let i = 0; i < 7; i++) await appendAudit(deps, event(i));
    await deps.store.delete(keys.auditRecord(3));
    const first = await readAuditPage(deps, { after: 0, limit: 4 });
    expect(first.records.map((r) => r.seq)).toEqual([1, 2, 4]);
    expect(first.next).toBe(4);
    const second = await readAuditPage(deps, { after: first.next!, limit: 4 });
    expect(second.records.map((r) => r.seq)).toEqual([5, 6, 7]);
    expect(second.next).toBeNull();
    expect(verifyChain((await readWholeTrail(deps)).records).problem).toMatchObject({ seq: 3, problem: "missing" });
  });
});
