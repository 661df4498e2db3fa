/**
 * The audit trail of a finished heart-disease federation, through HTTP and the embedded S3/SQS
 * with four site runners: the chain verifies from its first record; every record names its actor
 * (a site enrolled in the federation, the operator, or the coordinator), its detail holds only ids,
 * counts and reasons, and no record holds a token or any patient row.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrolledSites, federationOf, runSites, siteIdOf, startDeployment, type SimulationPlan } from "../cli/simulate.ts";
import { AuditRecord, verifyChain } from "../core/audit/trail.ts";
import { silentLogger } from "../core/logger.ts";
import type { EnrolResponse } from "../core/schemas/federation.ts";
import { readWholeTrail } from "../functions/use-cases/audit/read-audit.ts";
import { loadBuiltin } from "../gpu-runner/data/datasets.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";

/** What a record's detail may carry: ids, counts, versions and reasons. */
const DETAIL_KEYS = new Set(["run", "included", "rejected", "quarantined", "resultVersion", "baseVersion", "deadline", "reason", "id", "triggers", "parent", "promoted", "judged", "previous", "by", "evaluations", "secure", "regional"]);

describe("the audit trail of a finished heart-disease federation", () => {
  let records: AuditRecord[] = [];
  let texts: string[] = [];
  let verdict: ReturnType<typeof verifyChain>;
  let enrolled: EnrolResponse[] = [];
  let adminToken = "";
  let plan: SimulationPlan;

  beforeAll(async () => {
    await selectBackend("cpu");
    const data = await loadBuiltin("heart-disease", { sites: 4, split: "iid", testFraction: 0.3, seed: 1 });
    plan = { sites: data.sites, features: data.features, model: "logreg", training: { localEpochs: 1, lrSchedule: "constant", batchSize: 32, learningRate: 0.1, l2: 0.001, headEpochs: 1, headL2: 0.01 }, rounds: 3, strategy: "fedavg", codec: "float32", roundDeadlineSeconds: 600 };
    const deployment = await startDeployment(plan, { logger: silentLogger });
    const stateRoot = await mkdtemp(join(tmpdir(), "consilium-audit-e2e-"));
    try {
      adminToken = deployment.deps.adminToken;
      await deployment.admin.createFederation(federationOf(plan, 1, plan.sites.length));
      for (const [i, site] of plan.sites.entries()) enrolled.push(await deployment.admin.enrol(site.name, siteIdOf(i)));
      await runSites(plan, enrolledSites(plan, 1, enrolled, stateRoot, plan.sites.map((_, i) => i)), deployment.url, { logger: silentLogger }, new AbortController());
      await deployment.admin.status();
      const trail = await readWholeTrail(deployment.deps);
      verdict = verifyChain(trail.records);
      texts = trail.records.map((b) => new TextDecoder().decode(b!));
      records = texts.map((t) => AuditRecord.parse(JSON.parse(t)));
    } finally {
      await deployment.stop();
      await rm(stateRoot, { recursive: true, force: true });
    }
  }, 180_000);
  afterAll(() => undefined);

  it("verifies from its first record and covers the federation's life", () => {
    expect(verdict).toMatchObject({ ok: true, records: records.length });
    const actions = new Set(records.map((r) => r.action));
    for (const a of ["consortium.create", "site.enrol", "stats.submit", "round.open", "model.download", "update.submit", "round.close", "training.finish", "evaluation.submit", "run.finish", "model.register", "champion.promote", "status.read"]) expect(actions, a).toContain(a);
    expect(records.filter((r) => r.action === "round.close")).toHaveLength(plan.rounds);
  });

  it("names the actor of every record: an enrolled site, the operator or the coordinator", () => {
    const sites = new Set(enrolled.map((e) => e.siteId));
    for (const r of records) {
      if (r.actor.kind === "site") expect(sites.has(r.actor.id), r.actor.id).toBe(true);
      else if (r.actor.kind === "operator") expect(r.actor.id).toBe("admin");
      else expect(r.actor.id).toBe("coordinator");
    }
    // Every site's own actions are there under its name.
    for (const e of enrolled) expect(records.filter((r) => r.actor.id === e.siteId).map((r) => r.action)).toEqual(expect.arrayContaining(["stats.submit", "update.submit", "evaluation.submit"]));
  });

  it("holds no token and no patient row: details carry ids, counts, versions and reasons only", () => {
    const all = texts.join("\n");
    for (const secret of [adminToken, ...enrolled.map((e) => e.token)]) expect(all).not.toContain(secret);
    for (const r of records) for (const key of Object.keys(r.detail ?? {})) expect(DETAIL_KEYS.has(key), `${r.action}: ${key}`).toBe(true);
    // No row of any site, as its cells joined, appears anywhere.
    let rows = 0;
    for (const site of plan.sites) {
      for (const row of [...site.train.rows, ...site.test.rows]) {
        rows++;
        expect(all.includes(row.join(","))).toBe(false);
        expect(all.includes(JSON.stringify(row))).toBe(false);
      }
    }
    expect(rows).toBeGreaterThan(700);
  });
});
