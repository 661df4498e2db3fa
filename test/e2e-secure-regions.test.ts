/**
 * Robustness across groups under secure aggregation: nine hospitals in three regions, each region's
 * coordinator running SecAgg+ over its three sites and sending only its unmasked mean up, the global
 * coordinator taking the coordinate-wise median of the regional means. One region holds a site that
 * flips its update and scales it 100-fold: the secure clip bounds its norm but not its direction,
 * and the global median leaves its region out, where FedAvg over the same regions follows it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../core/logger.ts";
import type { RunReport } from "../core/schemas/report.ts";
import { RoundRecord } from "../core/schemas/round.ts";
import { SecureAggregationPolicy } from "../core/schemas/secure-aggregation.ts";
import { simulateOnce, type SimulationPlan } from "../cli/simulate.ts";
import { keys } from "../functions/keys.ts";
import type { ObjectStore } from "../functions/ports.ts";
import { readJson } from "../functions/repo.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { maliciousSites } from "../gpu-runner/simulation/attack.ts";
import { smallPlan } from "./fixtures/synthetic-sites.ts";

const ROUNDS = 3;
const attack = { spec: "scale:-100", fraction: 0.1 };
const base: SimulationPlan = {
  ...smallPlan(9, 21, ROUNDS),
  regions: [
    { name: "eu", sites: [0, 1, 2] },
    { name: "us", sites: [3, 4, 5] },
    { name: "sg", sites: [6, 7, 8] },
  ],
  secureAggregation: SecureAggregationPolicy.parse({ phaseSeconds: 2, clip: 10 }),
  attack,
};

describe("secure aggregation inside regions, a robust strategy across them", () => {
  let median: RunReport;
  let mean: RunReport;
  const regionalRounds = new Map<string, RoundRecord[]>();
  const regionalKeys = new Map<string, string[]>();
  let globalKeys: string[] = [];

  beforeAll(async () => {
    await selectBackend("cpu");
    median = await simulateOnce({ ...base, strategy: "median" }, 1, {
      logger: silentLogger,
      onStack: async (store: ObjectStore) => void (globalKeys = await store.list("")),
      onRegionStack: async (region, store) => {
        regionalKeys.set(region, await store.list(""));
        const rounds: RoundRecord[] = [];
        for (let r = 1; r <= ROUNDS; r++) rounds.push((await readJson(store, keys.round(r), RoundRecord))!);
        regionalRounds.set(region, rounds);
      },
    });
    mean = await simulateOnce({ ...base, strategy: "fedavg" }, 1, { logger: silentLogger });
  }, 180_000);

  it("runs every regional round as a secure round of its three sites", () => {
    expect([...regionalRounds.keys()].sort()).toEqual(["eu", "sg", "us"]);
    for (const rounds of regionalRounds.values()) {
      expect(rounds.map((r) => r.status)).toEqual(Array(ROUNDS).fill("closed"));
      for (const r of rounds) expect(r.secure).toMatchObject({ participants: 3, advertised: 3, shared: 3, masked: 3 });
    }
    expect(median.rounds.map((r) => [r.status, r.sites])).toEqual(Array(ROUNDS).fill(["closed", 3]));
  });

  it("keeps every site's update masked in its region and every site out of the global store", () => {
    for (const list of regionalKeys.values()) {
      expect(list.some((k) => k.includes("/updates/"))).toBe(false);
      expect(list.filter((k) => /\/secure\/masked-input\/[^/]+\.bin$/.test(k))).toHaveLength(3 * ROUNDS);
    }
    expect(globalKeys.some((k) => /site-0\d/.test(k))).toBe(false);
  });

  it("with the median across regions, a poisoned region does not drag the model where FedAvg across regions follows it", () => {
    expect(maliciousSites(9, attack, 1).size).toBe(1);
    expect(median.pooled.global.auroc!).toBeGreaterThan(0.8);
    expect(median.pooled.global.auroc!).toBeGreaterThan(mean.pooled.global.auroc! + 0.05);
  });
});
