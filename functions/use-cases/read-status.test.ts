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
    expect(status.final).toEqual({ global: clinicalMetrics(standard), personalized: clinicalMetrics(standard), local: clinicalMetrics(standard), sites: 1 });
    expect(status.evaluations.map((e) => e.siteId)).toEqual([a.siteId, b.siteId].sort());
  });
});
