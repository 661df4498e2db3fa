import { describe, expect, it } from "vitest";
import { clinicalMetrics, countPredictions, type EvalCounts } from "../../core/metrics/index.ts";
import { StoredUpdate, type Rejection } from "../../core/schemas/round.ts";
import type { StoredEvaluation } from "../../core/schemas/task.ts";
import { keys } from "../keys.ts";
import { readJson, writeJson } from "../repo.ts";
import { Harness, T0 } from "../../test/support/coordinator.ts";
import { readStatus } from "./read-status.ts";

describe("readStatus", () => {
  it("lists rejections by time, then by id, whatever order their keys list in", async () => {
    // Prepare
    const h = new Harness();
    await h.createFederation();
    const rejection = (at: number, code: string): Rejection => ({ at, siteId: null, round: null, code, message: code.toLowerCase() });
    await writeJson(h.deps.store, keys.rejection("a"), rejection(T0 + 3, "FOURTH"));
    await writeJson(h.deps.store, keys.rejection("b"), rejection(T0 + 2, "THIRD"));
    await writeJson(h.deps.store, keys.rejection("z"), rejection(T0 + 1, "SECOND"));
    await writeJson(h.deps.store, keys.rejection("y"), rejection(T0 + 1, "FIRST"));
    // Execute
    const status = await readStatus(h.deps);
    // Assert
    expect(status.rejections.map((r) => r.code)).toEqual(["FIRST", "SECOND", "THIRD", "FOURTH"]);
    expect(status.blocked).toBeNull();
  });

  it("leaves out counts stored with another number of bins instead of failing the whole status", async () => {
    // Prepare: counts stored before every site had to bin alike, next to counts in the standard bins.
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 1 });
    await h.finishRound(sites, 1);
    const standard = countPredictions(new Float64Array([0.2, 0.8, 0.6]), new Uint8Array([0, 1, 1]));
    const odd = countPredictions(new Float64Array([0.9, 0.1]), new Uint8Array([0, 1]), 4);
    const [a, b] = [sites[0]!, sites[1]!];
    const withBase = async (siteId: string, baseMetrics: EvalCounts) => {
      const stored = await readJson(h.deps.store, keys.updateManifest(1, siteId), StoredUpdate);
      await writeJson(h.deps.store, keys.updateManifest(1, siteId), { ...stored, baseMetrics });
    };
    const evaluation = (siteId: string, counts: EvalCounts): StoredEvaluation => ({ siteId, modelVersion: 1, trainRows: 3, testRows: 3, global: counts, personalized: counts, local: counts });
    await withBase(a.siteId, standard);
    await withBase(b.siteId, odd);
    // Such a store predates round summaries too: the status reads the manifests.
    await h.deps.store.delete(keys.roundSummary(1));
    await writeJson(h.deps.store, keys.evaluation(a.siteId), evaluation(a.siteId, standard));
    await writeJson(h.deps.store, keys.evaluation(b.siteId), evaluation(b.siteId, odd));
    // Execute
    const status = await readStatus(h.deps);
    // Assert
    expect(status.roundLog[0]?.baseModel).toEqual(clinicalMetrics(standard));
    // Evaluations without training-row counts (older runners): no operating point to choose.
    expect(status.final).toEqual({ global: clinicalMetrics(standard), personalized: clinicalMetrics(standard), local: clinicalMetrics(standard), sites: 1, operatingPoint: null });
    expect(status.evaluations.map((e) => e.siteId)).toEqual([a.siteId, b.siteId].sort());
  });

  it("chooses the operating threshold on the sites' training-row counts pooled and measures the global model there on their held-out rows", async () => {
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 1, operatingPoint: { rule: "sensitivity", target: 0.75 } });
    await h.finishRound(sites, 1);
    const [a, b] = [sites[0]!, sites[1]!];
    // Training rows: positives score 0.3–0.9, negatives 0.1–0.4; held-out rows alike.
    const trainA = countPredictions(new Float64Array([0.3, 0.6, 0.9, 0.1, 0.2, 0.35]), new Uint8Array([1, 1, 1, 0, 0, 0]));
    const trainB = countPredictions(new Float64Array([0.45, 0.8, 0.15, 0.4]), new Uint8Array([1, 1, 0, 0]));
    const testA = countPredictions(new Float64Array([0.5, 0.32, 0.25, 0.05]), new Uint8Array([1, 1, 0, 0]));
    const testB = countPredictions(new Float64Array([0.7, 0.47, 0.3, 0.46]), new Uint8Array([1, 1, 0, 0]));
    const stored = (siteId: string, test: EvalCounts, train: EvalCounts): StoredEvaluation => ({ siteId, modelVersion: 1, trainRows: train.n, testRows: test.n, global: test, personalized: test, local: test, globalTrain: train });
    await writeJson(h.deps.store, keys.evaluation(a.siteId), stored(a.siteId, testA, trainA));
    await writeJson(h.deps.store, keys.evaluation(b.siteId), stored(b.siteId, testB, trainB));
    const op = (await readStatus(h.deps)).final?.operatingPoint;
    // Pooled training positives 0.3, 0.45, 0.6, 0.8, 0.9: the highest edge catching ≥ 75 % of them (4 of 5) is 0.45.
    expect(op?.threshold).toBe(0.45);
    expect(op?.chosenOn).toEqual({ rows: 10, sites: 2 });
    // Held out at 0.45: positives 0.5, 0.32, 0.7, 0.47 → 3 of 4 caught; negatives 0.25, 0.05, 0.3, 0.46 → 0.46 called positive.
    expect(op?.pooled).toMatchObject({ threshold: 0.45, n: 8, sensitivity: 3 / 4, specificity: 3 / 4, ppv: 3 / 4, npv: 3 / 4 });
    // At 0.5: 0.47 missed and 0.46 no longer called positive.
    expect(op?.pooledAtHalf).toMatchObject({ threshold: 0.5, sensitivity: 2 / 4, specificity: 1, ppv: 1, npv: 4 / 6 });
    expect(op?.sites.map((s) => [s.siteId, s.at.sensitivity, s.at.specificity, s.atHalf.sensitivity])).toEqual([[a.siteId, 1 / 2, 1, 1 / 2], [b.siteId, 1, 1 / 2, 1 / 2]].sort());
    // One site without training-row counts (an older runner): no site alone sets the threshold.
    await writeJson(h.deps.store, keys.evaluation(b.siteId), { ...stored(b.siteId, testB, trainB), globalTrain: undefined });
    expect((await readStatus(h.deps)).final?.operatingPoint).toBeNull();
  });
});
