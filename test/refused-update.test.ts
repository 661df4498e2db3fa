/**
 * A site whose update the coordinator refuses (422, here out of range: the bound is set below
 * any honest update) tries the round again once and then sits it out until the round moves on,
 * instead of retraining the same refused step until the deadline. The rounds close without it.
 */
import { describe, expect, it } from "vitest";
import { silentLogger } from "../core/logger.ts";
import { simulateOnce } from "../cli/simulate.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import type { RunnerEvent } from "../gpu-runner/session/site-runner.ts";
import { syntheticSites, syntheticSpec } from "./fixtures/synthetic-sites.ts";

describe("a refused training update", () => {
  it("is tried twice per round at most, then the site waits for the round to move on", async () => {
    await selectBackend("cpu");
    const refused = new Map<string, number>();
    const trained: number[] = [];
    const codes = new Set<string>();
    const report = await simulateOnce(
      {
        sites: syntheticSites({ sites: 3, trainRows: 60, testRows: 30, seed: 7 }),
        features: syntheticSpec,
        model: "logreg",
        training: { localEpochs: 1, lrSchedule: "constant", batchSize: 16, learningRate: 0.1, l2: 0, headEpochs: 2, headL2: 0.01 },
        rounds: 2,
        strategy: "fedavg",
        codec: "float32",
        roundDeadlineSeconds: 6,
        maxUpdateAbs: 1e-9,
      },
      1,
      {
        logger: silentLogger,
        onEvent: (site: number, e: RunnerEvent) => {
          if (e.kind === "skipped") {
            codes.add(e.code);
            refused.set(`${site}/${e.round}`, (refused.get(`${site}/${e.round}`) ?? 0) + 1);
          }
          if (e.kind === "trained") trained.push(e.round);
        },
      },
    );
    expect([...codes]).toEqual(["UPDATE_OUT_OF_RANGE"]);
    // Every site, every round: refused at most twice (a slow machine may fit one try only), over a deadline that would allow hundreds of tries.
    expect([...refused.keys()].sort()).toEqual(["0/1", "0/2", "1/1", "1/2", "2/1", "2/2"]);
    expect([...refused.values()].every((n) => n === 1 || n === 2)).toBe(true);
    expect([...refused.values()].filter((n) => n === 2).length).toBeGreaterThan(0);
    expect(trained).toEqual([]);
    expect(report.rounds.map((r) => [r.status, r.reason])).toEqual([
      ["skipped", "deadline passed with no updates"],
      ["skipped", "deadline passed with no updates"],
    ]);
    // The coordinator counted each refusal.
    expect(report.rejections).toBe([...refused.values()].reduce((a, b) => a + b, 0));
  }, 120_000);
});
