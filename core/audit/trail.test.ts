import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { auditSigningKey, encodeRecord, GENESIS, recordHash, signCheckpoint, verifyChain, type AuditCheckpoint, type AuditRecord } from "./trail.ts";

const key = auditSigningKey(randomBytes(32).toString("hex"));

/** A chain of `n` records as a writer would store it, and checkpoints every `every` records. */
function chain(n: number, every = 0): { records: Uint8Array[]; checkpoints: AuditCheckpoint[] } {
  const records: Uint8Array[] = [];
  const checkpoints: AuditCheckpoint[] = [];
  let prev = GENESIS;
  for (let seq = 1; seq <= n; seq++) {
    const record: AuditRecord = { seq, prev, at: 1_000 * seq, actor: { kind: seq % 2 ? "site" : "operator", id: seq % 2 ? "st-mary" : "owner" }, action: "update.submit", object: `round/${seq}`, outcome: "ok" };
    const bytes = encodeRecord(record);
    records.push(bytes);
    prev = recordHash(bytes);
    if (every > 0 && seq % every === 0) checkpoints.push(signCheckpoint(key, seq, prev, 1_000 * seq));
  }
  return { records, checkpoints };
}

describe("the audit trail's hash chain", () => {
  it("verifies an intact chain and its checkpoints", () => {
    const { records, checkpoints } = chain(25, 10);
    expect(verifyChain(records, checkpoints, key.publicKey)).toMatchObject({ ok: true, records: 25, checkpoint: 20, head: recordHash(records[24]!) });
    expect(verifyChain([])).toMatchObject({ ok: true, records: 0, head: GENESIS });
  });

  it("names the first bad sequence of a deleted, changed, swapped or truncated chain", () => {
    const { records, checkpoints } = chain(25, 10);
    const deleted = records.map((r, i) => (i === 6 ? null : r));
    expect(verifyChain(deleted, checkpoints).problem).toMatchObject({ seq: 7, problem: "missing" });

    const changed = [...records];
    changed[11] = new TextEncoder().encode(new TextDecoder().decode(records[11]!).replace('"outcome":"ok"', '"outcome":"refused"'));
    expect(verifyChain(changed, checkpoints).problem).toMatchObject({ seq: 12, problem: "hash-mismatch" });

    const swapped = [...records];
    [swapped[3], swapped[4]] = [records[4]!, records[3]!];
    expect(verifyChain(swapped, checkpoints).problem).toMatchObject({ seq: 4, problem: "out-of-order" });

    // Cut behind the checkpoint at 20: what is left is a valid chain, but the signed checkpoint says there was more.
    expect(verifyChain(records.slice(0, 17), checkpoints).problem).toMatchObject({ seq: 18, problem: "truncated" });
    // A tail cut after the newest checkpoint is not detectable from the records alone (the next checkpoint pins it).
    expect(verifyChain(records.slice(0, 22), checkpoints).ok).toBe(true);
  });

  it("catches a changed last record once a checkpoint covers it, and a checkpoint not signed by the consortium's key", () => {
    const { records, checkpoints } = chain(20, 10);
    const changed = [...records];
    changed[19] = new TextEncoder().encode(new TextDecoder().decode(records[19]!).replace('"object":"round/20"', '"object":"round/21"'));
    expect(verifyChain(changed, checkpoints).problem).toMatchObject({ seq: 20, problem: "hash-mismatch" });

    const other = auditSigningKey(randomBytes(32).toString("base64"));
    const forged = signCheckpoint(other, 20, recordHash(records[19]!), 1);
    expect(verifyChain(records, [forged]).ok).toBe(true);
    expect(verifyChain(records, [forged], key.publicKey).problem).toMatchObject({ seq: 20, problem: "bad-checkpoint" });
    const tampered = { ...checkpoints[1]!, seq: 19 };
    expect(verifyChain(records, [tampered]).problem).toMatchObject({ seq: 19, problem: "bad-checkpoint" });
  });

  it("detects any change to any record's bytes, whichever byte (property)", () => {
    const { records, checkpoints } = chain(12, 4);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 11 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (i, at, flip) => {
        const bytes = records[i]!.slice();
        const k = at % bytes.length;
        bytes[k] = bytes[k]! ^ flip;
        const mutated = records.map((r, k) => (k === i ? bytes : r));
        const verdict = verifyChain(mutated, checkpoints, key.publicKey);
        expect(verdict.ok).toBe(false);
        expect(verdict.problem!.seq).toBeLessThanOrEqual(i + 1);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses a signing key that is not a 32-byte seed, without echoing it", () => {
    expect(() => auditSigningKey("c2VjcmV0")).toThrow(/decodes to 6 bytes/);
    expect(() => auditSigningKey("c2VjcmV0")).not.toThrow(/c2VjcmV0/);
  });
});
