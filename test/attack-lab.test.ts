/**
 * The attack lab through the production path: malicious runners poison their updates, the
 * coordinator aggregates them over HTTP and the embedded S3/SQS server, and the report names them.
 */
import { describe, expect, it } from "vitest";
import { silentLogger } from "../core/logger.ts";
import { simulateOnce, type SimulationPlan } from "../cli/simulate.ts";
import { inverseNormal, maliciousSites } from "../gpu-runner/simulation/attack.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { syntheticSites, syntheticSpec } from "./fixtures/synthetic-sites.ts";
import { holdOutValidation } from "../cli/validation-split.ts";

const plan: SimulationPlan = {
  sites: syntheticSites({ sites: 5, trainRows: 120, testRows: 60, seed: 21 }),
  features: syntheticSpec,
  model: "logreg",
  training: { localEpochs: 1, localSteps: 8, lrSchedule: "constant", batchSize: 16, learningRate: 0.2, l2: 0.01, headEpochs: 2, headL2: 1, headLearningRate: 0.1 },
  rounds: 4,
  strategy: "fedavg",
  codec: "float32",
  roundDeadlineSeconds: 120,
};

describe("maliciousSites", () => {
  it("draws the same sites for the same seed, at least one, and gives ALIE Baruch et al.'s z", () => {
    // Execute
    const a = maliciousSites(10, { spec: "sign-flip", fraction: 0.2 }, 7);
    const b = maliciousSites(10, { spec: "sign-flip", fraction: 0.2 }, 7);
    const one = maliciousSites(10, { spec: "sign-flip", fraction: 0.01 }, 7);
    const alie = maliciousSites(50, { spec: "alie", fraction: 0.24 }, 1);

    // Assert
    expect([...a.keys()]).toEqual([...b.keys()]);
    expect(a.size).toBe(2);
    expect(one.size).toBe(1);
    const specs = [...alie.values()];
    expect(specs).toHaveLength(12);
    expect(new Set(specs).size).toBe(1);
    // 50 sites, 12 attackers: s = 26 − 12 = 14, z = Φ⁻¹((50 − 14) / 50)
    expect(Number(specs[0]?.split(":")[1])).toBeCloseTo(inverseNormal(36 / 50), 9);
  });
});

describe("an attacked federation over HTTP and the embedded S3/SQS server", () => {
  it("names its malicious site, and a scaled sign-flip from one of five sites breaks plain FedAvg", async () => {
    // Prepare
    await selectBackend("wasm");

    // Execute
    const clean = await simulateOnce(plan, 2, { logger: silentLogger });
    const attacked = await simulateOnce({ ...plan, attack: { spec: "scale:-20", fraction: 0.2 } }, 2, { logger: silentLogger });

    // Assert
    expect(clean.malicious).toEqual([]);
    expect(attacked.malicious).toHaveLength(1);
    expect(attacked.rounds.map((r) => r.status)).toEqual(["closed", "closed", "closed", "closed"]);
    expect(clean.pooled.global.auroc ?? 0).toBeGreaterThan(0.8);
    expect(attacked.pooled.global.auroc ?? 1).toBeLessThan((clean.pooled.global.auroc ?? 0) - 0.2);
  });

  it("keeps the model when the federation aggregates with the recommended robust strategy", async () => {
    // Prepare
    await selectBackend("wasm");
    const attack = { spec: "scale:-20", fraction: 0.2 };

    // Execute
    const clean = await simulateOnce({ ...plan, strategy: "robust" }, 2, { logger: silentLogger });
    const attacked = await simulateOnce({ ...plan, strategy: "robust", attack }, 2, { logger: silentLogger });

    // Assert
    expect(attacked.malicious).toHaveLength(1);
    expect(attacked.pooled.global.auroc ?? 0).toBeGreaterThan((clean.pooled.global.auroc ?? 1) - 0.03);
  });

  it("with scoring and a validation set, quarantines the sign-flipping site in round 1, and no site in the clean run", async () => {
    // Prepare
    await selectBackend("wasm");
    const { sites, validation } = holdOutValidation(plan.sites, 0.1, 2);
    const scored: SimulationPlan = { ...plan, sites, validation, strategy: "robust", scoring: { enabled: true } };

    // Execute
    const clean = await simulateOnce(scored, 2, { logger: silentLogger });
    const attacked = await simulateOnce({ ...scored, attack: { spec: "sign-flip", fraction: 0.2 } }, 2, { logger: silentLogger });

    // Assert
    expect(clean.quarantined).toEqual([]);
    expect(attacked.malicious).toHaveLength(1);
    expect(attacked.quarantined).toEqual(attacked.malicious);
    expect(attacked.firstQuarantined).toEqual({ [attacked.malicious[0]!]: 1 });
    const round1 = attacked.rounds[0]?.scores ?? {};
    expect(Object.keys(round1).sort()).toEqual(attacked.sites.map((s) => s.id).sort());
    expect(Object.values(round1).every((x) => x.gain !== undefined)).toBe(true);
  });
});
