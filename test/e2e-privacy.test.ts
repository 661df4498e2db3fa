/**
 * End to end under a privacy policy: site runners train with DP-SGD and keep their ledgers, one
 * hospital holds itself to less ε than the consortium (3.3 of 4), runs out, declines the rounds that would take
 * it past its cap, and the federation goes on without it; the refusals show in the coordinator's
 * status (hence the report), each site's ledger in the report, and the ledgers on disk.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../core/logger.ts";
import { PrivacyPolicy } from "../core/schemas/privacy.ts";
import type { RunReport } from "../core/schemas/report.ts";
import { simulateOnce, type SimulationPlan } from "../cli/simulate.ts";
import type { ObjectStore } from "../functions/ports.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { loadLedger } from "../gpu-runner/privacy/privacy-ledger.ts";
import { smallPlan } from "./fixtures/synthetic-sites.ts";

const ROUNDS = 4;
const policy = PrivacyPolicy.parse({ level: "sample", epsilon: 4, delta: 1e-5, clip: 1 });
const plan: SimulationPlan = {
  ...smallPlan(3, 8, ROUNDS),
  privacy: policy,
  // The first hospital's own agreement allows ε 3.3 of the consortium's 4: about two of the four rounds.
  privacyCaps: { 0: 3.3 },
};

describe("a federation under a sample-level privacy policy, with one site capped below it", () => {
  let report: RunReport;
  let stateDir: string;
  let declines: string[] = [];

  beforeAll(async () => {
    await selectBackend("cpu");
    stateDir = await mkdtemp(join(tmpdir(), "consilium-dp-"));
    report = await simulateOnce({ ...plan, stateDir }, 1, {
      logger: silentLogger,
      onStack: async (store: ObjectStore) => void (declines = (await store.list("rounds/")).filter((k) => k.includes("/declines/"))),
    });
  }, 120_000);
  afterAll(() => rm(stateDir, { recursive: true, force: true }));

  it("reports every site's ledger, each within its budget", () => {
    const privacy = report.privacy ?? [];
    expect(privacy.map((p) => [p.siteId, p.budget])).toEqual([["site-01", 3.3], ["site-02", 4], ["site-03", 4]]);
    for (const p of privacy) {
      expect(p.epsilon).toBeGreaterThan(0);
      expect(p.epsilon).toBeLessThanOrEqual(p.budget * (1 + 1e-6));
      expect(p).toMatchObject({ level: "sample", delta: 1e-5 });
    }
    // The uncapped sites were calibrated to spend the policy's budget over the planned rounds.
    expect(privacy[1]!.epsilon).toBeGreaterThan(3.99);
    expect(privacy[1]!.refusedRounds).toEqual([]);
  });

  it("has the capped site decline the last rounds, and the rounds go on without it", () => {
    const capped = report.privacy?.find((p) => p.siteId === "site-01");
    const refused = capped?.refusedRounds ?? [];
    expect(refused.length).toBeGreaterThan(0);
    expect(refused).toEqual(Array.from({ length: refused.length }, (_, i) => ROUNDS - refused.length + 1 + i));
    expect(declines.length).toBe(refused.length);
    for (const r of report.rounds) expect([r.round, r.status, r.sites]).toEqual([r.round, "closed", refused.includes(r.round) ? 2 : 3]);
    expect(report.rejections).toBe(refused.length);
    expect(report.pooled.global.auroc).toBeGreaterThan(0.7);
  });

  it("keeps each site's ledger on its own disk, where a restarted runner finds it", async () => {
    const ledger = await loadLedger(join(stateDir, "site-01"));
    const capped = report.privacy?.find((p) => p.siteId === "site-01");
    expect(ledger?.refused).toEqual(capped?.refusedRounds);
    expect(ledger?.entries.map((e) => e.round)).toEqual(Array.from({ length: ROUNDS - (capped?.refusedRounds.length ?? 0) }, (_, i) => i + 1));
  });
});
