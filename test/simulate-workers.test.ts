/**
 * Site runners in worker threads use both cores; they must change nothing but the wall time:
 * the same seed gives the same federation, bit for bit, in workers and in the main thread.
 */
import { describe, expect, it } from "vitest";
import { silentLogger } from "../core/logger.ts";
import { simulateOnce, type SimulationPlan } from "../cli/simulate.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { syntheticSites, syntheticSpec } from "./fixtures/synthetic-sites.ts";

const plan: SimulationPlan = {
  sites: syntheticSites({ sites: 3, trainRows: 120, testRows: 60, seed: 11 }),
  features: syntheticSpec,
  model: "logreg",
  training: { localEpochs: 1, localSteps: 5, lrSchedule: "cosine", batchSize: 16, learningRate: 0.2, l2: 0.01, headEpochs: 3, headL2: 1, headLearningRate: 0.1 },
  rounds: 3,
  strategy: "scaffold",
  codec: "float32",
  roundDeadlineSeconds: 120,
};

describe("simulate with runners in worker threads", () => {
  it("reports exactly what the same seed reports with runners in the main thread", async () => {
    // Prepare
    await selectBackend("wasm");

    // Execute
    const here = await simulateOnce({ ...plan, workers: 0 }, 3, { logger: silentLogger });
    const workers = await simulateOnce({ ...plan, workers: 2 }, 3, { logger: silentLogger });

    // Assert
    // Wall-clock figures differ between runs: the run's seconds and each round's close.
    const strip = (r: typeof here) => ({ ...r, wallSeconds: 0, rounds: r.rounds.map(({ closedAt: _, ...round }) => round) });
    expect(workers.rounds.map((r) => r.status)).toEqual(["closed", "closed", "closed"]);
    expect(strip(workers)).toEqual(strip(here));
  });
});
