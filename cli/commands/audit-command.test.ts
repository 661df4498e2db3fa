import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditSigningKey } from "../../core/audit/trail.ts";
import { checkpointNow } from "../../functions/use-cases/audit/append-audit.ts";
import { ADMIN_TOKEN, delta, Harness, testDeps, type TestSite } from "../../test/support/coordinator.ts";
import type { AuditCheckpoint } from "../../core/audit/trail.ts";
import { AuditBroken, auditCommand, unsignedStretch } from "./audit-command.ts";
import { memoryIo, UsageError } from "./flags.ts";
import { harnessFetch } from "../../test/support/cli.ts";

const key = auditSigningKey(randomBytes(32).toString("hex"));

/** `consilium audit …` against the harness's app, the admin token from the environment. */
async function audit(h: Harness, argv: string[], live = true) {
  const io = memoryIo({ CONSILIUM_ADMIN_TOKEN: ADMIN_TOKEN });
  const result = await auditCommand([...argv, ...(live ? ["--coordinator", "http://coordinator.test"] : [])], { io, fetchFn: harnessFetch(h) }).catch((err: unknown) => err);
  return { io, result };
}

describe("consilium audit verify and export", () => {
  const h = new Harness({ ...testDeps(), auditKey: key });
  let dir: string;
  let lines: string[];
  let pinned: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "consilium-audit-"));
    const sites = (await h.startTraining({ rounds: 2 })) as TestSite[];
    for (const [i, site] of sites.entries()) await h.submit(site, 1, delta(i + 1), 1);
    await h.runJobs();
    pinned = (await checkpointNow(h.root))!.seq;
    h.root.clock.advance(60_000);
    for (const [i, site] of sites.entries()) await h.submit(site, 2, delta(i + 1), 1);
    await h.runJobs();
    await h.status();
    const exported = await audit(h, ["export", "--out", join(dir, "trail.jsonl")]);
    expect(exported.result).not.toBeInstanceOf(Error);
    lines = (await readFile(join(dir, "trail.jsonl"), "utf8")).trimEnd().split("\n");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const records = () => lines.filter((l) => l.startsWith('{"seq"'));
  const checkpoints = () => lines.filter((l) => l.startsWith('{"checkpoint"'));
  async function verifyFile(name: string, content: string[]) {
    await writeFile(join(dir, name), `${content.join("\n")}\n`);
    return audit(h, ["verify", "--file", join(dir, name), "--public-key", key.publicKey], false);
  }

  it("verifies the finished federation's trail live and from its export, checkpoints signed by the consortium's key", async () => {
    const live = await audit(h, ["verify"]);
    // The export was read through the API, so the trail now holds its record too.
    expect(live.io.outLines[0]).toMatch(new RegExp(`^audit trail intact: ${records().length + 1} records, head [0-9a-f]{16}…; signed checkpoint at ${pinned} \\(key ${key.publicKey.slice(0, 16)}…\\); records ${pinned + 1} to ${records().length + 1} not yet under a checkpoint$`));
    expect(lines[0]).toMatch(/^\{"export":\{"from":1,"exportedAt":"\d{4}-/);
    const offline = await verifyFile("intact.jsonl", lines);
    expect(offline.io.outLines[0]).toMatch(/^audit trail intact: /);
    expect(records().length).toBeGreaterThan(pinned + 5);
    expect(checkpoints().length).toBeGreaterThanOrEqual(2);
  });

  it("names the first bad sequence of a record deleted, changed, swapped, or the tail cut behind a checkpoint", async () => {
    const r = records();
    const c = checkpoints();
    const deleted = await verifyFile("deleted.jsonl", [...r.slice(0, 4), ...r.slice(5), ...c]);
    expect(deleted.result).toBeInstanceOf(AuditBroken);
    expect(deleted.io.outLines[0]).toBe("audit trail broken at record 5: record 5 is missing (the next held is record 6)");

    const changed = [...r];
    changed[6] = changed[6]!.replace('"outcome":"ok"', '"outcome":"refused"');
    expect(changed[6]).not.toBe(r[6]);
    expect((await verifyFile("changed.jsonl", [...changed, ...c])).io.outLines[0]).toMatch(/^audit trail broken at record 7: record 7 does not hash to what record 8 says/);

    const swapped = [...r];
    [swapped[2], swapped[3]] = [r[3]!, r[2]!];
    expect((await verifyFile("swapped.jsonl", [...swapped, ...c])).io.outLines[0]).toBe("audit trail broken at record 3: the record stored at 3 says it is record 4");

    const cut = await verifyFile("cut.jsonl", [...r.slice(0, pinned - 2), ...c]);
    expect(cut.io.outLines[0]).toBe(`audit trail broken at record ${pinned - 1}: the chain ends at record ${pinned - 2}, but a signed checkpoint says it held ${pinned}: records from ${pinned - 1} were removed`);

    const forged = await audit(h, ["verify", "--file", join(dir, "intact.jsonl"), "--public-key", "ab".repeat(32)], false);
    expect(forged.io.outLines[0]).toMatch(/^audit trail broken at record 1: the checkpoint at 1 is not signed by the consortium's key/);
    // A key rotated: every key the consortium used is listed.
    const rotated = await audit(h, ["verify", "--file", join(dir, "intact.jsonl"), "--public-key", `${"ab".repeat(32)},${key.publicKey}`], false);
    expect(rotated.io.outLines[0]).toMatch(/^audit trail intact: /);
    // Stripped of its checkpoints, an export held to the consortium's key proves nothing.
    const stripped = await verifyFile("stripped.jsonl", r);
    expect(stripped.io.outLines[0]).toBe("audit trail broken at record 1: no checkpoint signed by the consortium's key: the records cannot be told from rewritten ones");
    // The oldest records deleted: a whole export (its header says from 1) names the first.
    const headless = await verifyFile("headless.jsonl", [lines[0]!, ...r.slice(3), ...c]);
    expect(headless.io.outLines[0]).toBe("audit trail broken at record 1: record 1 is missing (the next held is record 4)");
  });

  it("exports as CSV and since a time, a partial export verified from its first record", async () => {
    const csv = await audit(h, ["export", "--format", "csv"]);
    const rows = csv.io.outLines;
    expect(rows[0]).toBe("seq,at,actor_kind,actor_id,action,object,outcome,code,detail,prev,hash");
    expect(rows.length - 1).toBeGreaterThan(records().length);
    expect(rows.filter((row) => row.includes(",audit.read,"))).not.toHaveLength(0);
    expect(rows.some((row) => /^\d+,[\dT:.-]+Z,operator,admin,consortium\.create,consortium,ok,/.test(row))).toBe(true);
    expect(rows.join("\n")).not.toContain(ADMIN_TOKEN);

    const at = new Date(h.root.clock.now() - 30_000).toISOString();
    const since = await audit(h, ["export", "--since", at, "--out", join(dir, "since.jsonl")]);
    expect(since.result).not.toBeInstanceOf(Error);
    const part = (await readFile(join(dir, "since.jsonl"), "utf8")).trimEnd().split("\n").filter((l) => !l.startsWith('{"checkpoint"'));
    expect(part.length).toBeGreaterThan(0);
    expect(part.length).toBeLessThan(records().length);
    const verified = await audit(h, ["verify", "--file", join(dir, "since.jsonl")], false);
    expect(verified.io.outLines[0]).toMatch(/^audit trail intact: \d+ records \(from record \d+, anchored at its link to \d+: the export proves nothing before it\)/);
  });

  it("exports nothing since a time after the last record, and that empty export verifies", async () => {
    const empty = await audit(h, ["export", "--since", "2099-01-01", "--out", join(dir, "empty.jsonl")]);
    expect(empty.result).not.toBeInstanceOf(Error);
    const content = (await readFile(join(dir, "empty.jsonl"), "utf8")).trimEnd().split("\n");
    expect(content).toHaveLength(1);
    expect(content[0]).toMatch(/^\{"export":\{"from":\d+,/);
    expect((await audit(h, ["verify", "--file", join(dir, "empty.jsonl")], false)).io.outLines[0]).toMatch(/^audit trail intact: 0 records/);
  });

  it("finds a stretch of more than 200 records under no checkpoint, the tail included, where the coordinator signs one every 100", () => {
    const at = (...seqs: number[]) => seqs.map((seq) => ({ seq }) as AuditCheckpoint);
    expect(unsignedStretch(1, 450, at(1, 101, 201, 301, 401))).toBeNull();
    expect(unsignedStretch(1, 450, at(1, 101, 401))).toEqual({ from: 102, to: 400 });
    expect(unsignedStretch(1, 250, at(1))).toEqual({ from: 2, to: 250 });
    expect(unsignedStretch(1, 200, at(1))).toBeNull();
    // A partial export counts from its first record.
    expect(unsignedStretch(300, 450, at(1, 101, 401))).toBeNull();
    expect(unsignedStretch(150, 450, at(1, 101, 401))).toEqual({ from: 150, to: 400 });
  });

  it("refuses flags that do not go together and a time that is not one", async () => {
    expect((await audit(h, ["verify", "--since", "2027-01-01"])).result).toBeInstanceOf(UsageError);
    expect((await audit(h, ["export", "--since", "yesterday"])).result).toMatchObject({ message: expect.stringMatching(/--since: "yesterday" is not a time/) });
    expect((await audit(h, ["verify"], false)).result).toMatchObject({ message: expect.stringMatching(/give --coordinator URL or --file EXPORT/) });
    expect((await audit(h, ["sign"])).result).toMatchObject({ message: expect.stringMatching(/unknown action "sign"/) });
  });
});
