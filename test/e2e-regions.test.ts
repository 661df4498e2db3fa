/**
 * Regional tiers end to end: six hospitals in three regions (each region its own coordinator,
 * store and queue, and a relay that is its one site at the global coordinator) against the same
 * six hospitals in one flat federation. FedAvg over the regional aggregates, each weighted by its
 * region's rows, is FedAvg over the sites: the global models agree to floating-point tolerance.
 * No site-level statistics, update or evaluation reaches the global coordinator's store, and no
 * region's store holds another region's sites.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../core/logger.ts";
import { FederationState } from "../core/schemas/federation.ts";
import type { RunReport } from "../core/schemas/report.ts";
import { simulateOnce, type SimulationPlan } from "../cli/simulate.ts";
import type { CoordinatorDeps } from "../functions/deps.ts";
import { keys } from "../functions/keys.ts";
import type { ObjectStore } from "../functions/ports.ts";
import { readJson } from "../functions/repo.ts";
import { loadModel } from "../functions/use-cases/models.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { smallPlan } from "./fixtures/synthetic-sites.ts";

const plan: SimulationPlan = smallPlan(6, 12, 3);
const regions = [
  { name: "eu", sites: [0, 1] },
  { name: "us", sites: [2, 3] },
  { name: "sg", sites: [4, 5] },
];

/** Every key in the store, and the final model. */
async function snapshot(store: ObjectStore): Promise<{ keys: string[]; model: Float32Array }> {
  const state = await readJson(store, keys.state, FederationState);
  if (!state) throw new Error("no federation state");
  return { keys: await store.list(""), model: await loadModel({ store } as CoordinatorDeps, state.modelVersion) };
}

describe("three regions against one flat federation over the same sites", () => {
  let flat: { keys: string[]; model: Float32Array };
  let tiered: { keys: string[]; model: Float32Array };
  const regional = new Map<string, string[]>();
  let report: RunReport;

  beforeAll(async () => {
    await selectBackend("cpu");
    await simulateOnce(plan, 1, { logger: silentLogger, onStack: async (store) => void (flat = await snapshot(store)) });
    report = await simulateOnce({ ...plan, regions }, 1, {
      logger: silentLogger,
      onStack: async (store) => void (tiered = await snapshot(store)),
      onRegionStack: async (region, store) => void regional.set(region, await store.list("")),
    });
  }, 120_000);

  it("reaches the same global model (to floating-point tolerance)", () => {
    expect(tiered.model.length).toBe(flat.model.length);
    let worst = 0;
    for (let i = 0; i < flat.model.length; i++) worst = Math.max(worst, Math.abs(tiered.model[i]! - flat.model[i]!));
    expect(worst).toBeLessThan(1e-5);
    expect(report.rounds.map((r) => [r.status, r.sites])).toEqual([["closed", 3], ["closed", 3], ["closed", 3]]);
  });

  it("keeps every site-level object out of the global store: it holds the regions' statistics, aggregates and evaluations only", () => {
    const siteLevel = tiered.keys.filter((k) => /site-\d\d/.test(k));
    expect(siteLevel).toEqual([]);
    const perSite = tiered.keys.filter((k) => /^(stats|evaluations)\/|\/updates\//.test(k));
    expect(perSite.length).toBeGreaterThan(0);
    for (const k of perSite) expect(k).toMatch(/region-(eu|us|sg)/);
    expect(report.sites.map((s) => s.id).sort()).toEqual(["region-eu", "region-sg", "region-us"]);
  });

  it("keeps each region's sites in its own store", () => {
    const own = { eu: ["site-01", "site-02"], us: ["site-03", "site-04"], sg: ["site-05", "site-06"] } as Record<string, string[]>;
    for (const [region, list] of regional) {
      const mentioned = new Set(list.flatMap((k) => k.match(/site-\d\d/g) ?? []));
      expect([...mentioned].sort()).toEqual(own[region]);
    }
    expect([...regional.keys()].sort()).toEqual(["eu", "sg", "us"]);
  });
});
