/**
 * End to end in asynchronous rounds: four site runners, the first behind a slow link (a second of
 * latency each way), a server step every three updates. Rounds close without waiting for the slow
 * site; its updates, trained from older models, count late (stale) or are refused past training's
 * end, and never hold a round up.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { AsyncPolicy } from "../core/async/async-policy.ts";
import { silentLogger } from "../core/logger.ts";
import type { RunReport } from "../core/schemas/report.ts";
import { simulateOnce, type SimulationPlan } from "../cli/simulate.ts";
import type { ObjectStore } from "../functions/ports.ts";
import { StoredUpdate } from "../core/schemas/round.ts";
import { readJson } from "../functions/repo.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { parseSiteSpeeds } from "../gpu-runner/simulation/site-speed.ts";
import { smallPlan } from "./fixtures/synthetic-sites.ts";

const ROUNDS = 6;
const plan: SimulationPlan = {
  ...smallPlan(4, 4, ROUNDS),
  async: AsyncPolicy.parse({ bufferSize: 3, maxStaleness: 10 }),
  speeds: parseSiteSpeeds("1:1000ms", 4),
};

describe("asynchronous rounds with one slow site", () => {
  let report: RunReport;
  let updates: StoredUpdate[] = [];

  beforeAll(async () => {
    await selectBackend("cpu");
    report = await simulateOnce(plan, 1, {
      logger: silentLogger,
      onStack: async (store: ObjectStore) => {
        const keys = (await store.list("rounds/")).filter((k) => /\/updates\/[^/]+\.json$/.test(k));
        updates = (await Promise.all(keys.map((k) => readJson(store, k, StoredUpdate)))).filter((u): u is StoredUpdate => u !== null);
      },
    });
  }, 120_000);

  it("closes every round with at least the buffer's updates and finishes with every site's evaluation", () => {
    expect(report.rounds.map((r) => r.status)).toEqual(Array(ROUNDS).fill("closed"));
    for (const r of report.rounds) expect(r.sites).toBeGreaterThanOrEqual(3);
    expect(report.sites.every((s) => s.testRows === 100)).toBe(true);
    expect(report.pooled.global.auroc).toBeGreaterThan(0.7);
  });

  it("does not wait for the slow site: it is in fewer rounds than the others, and only with stale updates", () => {
    const slow = updates.filter((u) => u.siteId === "site-01");
    const fast = updates.filter((u) => u.siteId === "site-02");
    expect(slow.length).toBeLessThan(fast.length);
    for (const u of slow) expect(u).toMatchObject({ trainedIn: expect.any(Number), baseVersion: expect.any(Number) });
    expect(report.rounds.reduce((n, r) => n + (r.stale ?? 0), 0)).toBeGreaterThanOrEqual(slow.length);
  });
});
