/**
 * End to end through the real wire protocol: three site runners and the coordinator over HTTP,
 * updates and models through the embedded S3 server by presigned URL, aggregate jobs through its
 * SQS queue. A learnable synthetic dataset makes "the federation learned" a checkable claim.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodedSize } from "../core/codec/index.ts";
import { rocCurve } from "../core/metrics/roc.ts";
import { silentLogger } from "../core/logger.ts";
import type { Layout } from "../core/model/layout.ts";
import { RunReport } from "../core/schemas/report.ts";
import { simulateOnce, type SimulationHooks, type SimulationPlan } from "../cli/simulate.ts";
import type { ObjectStore } from "../functions/ports.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { loadPersonalModel } from "../gpu-runner/session/site-state.ts";
import { syntheticSites, syntheticSpec } from "./fixtures/synthetic-sites.ts";

/** Every object in the bucket, as text (binary updates decode to noise that cannot match a row). */
async function snapshot(store: ObjectStore): Promise<Map<string, string>> {
  const keys = await store.list("");
  const bodies = await Promise.all(keys.map(async (k) => Buffer.from((await store.get(k)) ?? []).toString("latin1")));
  return new Map(keys.map((k, i) => [k, bodies[i] ?? ""]));
}

const SITES = 3;
const ROUNDS = 3;
const sites = syntheticSites({ sites: SITES, trainRows: 240, testRows: 120, seed: 5 });
const plan: Omit<SimulationPlan, "codec"> = {
  sites,
  features: syntheticSpec,
  // Wide enough that the 48-byte container overhead is small next to the payload (int8 vs float32).
  model: "mlp:64",
  training: { localEpochs: 3, lrSchedule: "constant", batchSize: 32, learningRate: 0.1, l2: 0.001, headEpochs: 10, headL2: 0.01 },
  rounds: ROUNDS,
  strategy: "fedavg",
  roundDeadlineSeconds: 120,
};

describe("a federation of three sites over HTTP and the embedded S3/SQS server", () => {
  let stateDir: string;
  let float32: RunReport;
  let int8: RunReport;
  let layout: Layout;
  let objects: Map<string, string> | null = null;

  beforeAll(async () => {
    await selectBackend("cpu");
    stateDir = await mkdtemp(join(tmpdir(), "consilium-e2e-"));
    const hooks: SimulationHooks = { logger: silentLogger, onStack: async (store) => void (objects = await snapshot(store)) };
    float32 = await simulateOnce({ ...plan, codec: "float32", stateDir }, 1, hooks);
    int8 = await simulateOnce({ ...plan, codec: "int8" }, 1, { logger: silentLogger });
    const first = float32.sites[0]?.id ?? "";
    layout = (await loadPersonalModel(join(stateDir, first))).meta.layout;
  });
  afterAll(() => rm(stateDir, { recursive: true, force: true }));

  it("completes every round with every site and learns far above chance", () => {
    expect(RunReport.safeParse(float32).success).toBe(true);
    expect(RunReport.safeParse(int8).success).toBe(true);
    expect(float32.rounds.map((r) => [r.round, r.status, r.sites])).toEqual(
      Array.from({ length: ROUNDS }, (_, i) => [i + 1, "closed", SITES]),
    );
    expect(float32.rejections).toBe(0);
    expect(float32.pooled.global.auroc).toBeGreaterThan(0.8);
    expect(float32.rounds.at(-1)?.auroc).toBeGreaterThan(0.8);
    expect(int8.pooled.global.auroc).toBeGreaterThan(0.8);
  });

  it("has an evaluation from every site", () => {
    expect(float32.sites).toHaveLength(SITES);
    for (const s of float32.sites) {
      expect(s.trainRows).toBeGreaterThan(200);
      expect(s.testRows).toBeGreaterThan(100);
      expect(s.accuracy.global).not.toBeNull();
      expect(s.accuracy.personalized).not.toBeNull();
      expect(s.accuracy.local).not.toBeNull();
      // The personalised model is the personal head or, where it did not beat it on the validation rows, the global model itself.
      expect(s.personalChoice?.reason).toMatch(/^(personal|global): /);
      if (s.personalChoice?.kind === "global") expect(s.accuracy.personalized).toBe(s.accuracy.global);
    }
  });

  it("gives the global model at the operating threshold chosen on the sites' training rows, as the pooled ROC curve of the held-out rows has it, beside 0.5", () => {
    const op = float32.operatingPoint;
    expect(op?.rule).toEqual({ rule: "youden" });
    expect(op?.chosenOn).toEqual({ rows: float32.sites.reduce((n, s) => n + s.trainRows, 0), sites: SITES });
    expect(op!.threshold).toBeGreaterThan(0);
    expect(op!.threshold).toBeLessThan(1);
    // The pooled ROC curve of the held-out rows at that threshold (a bin edge): the same rates.
    const curve = rocCurve(float32.curves!.global!.pos, float32.curves!.global!.neg)!;
    const point = curve.find((q) => Math.abs(q.threshold - op!.threshold) < 1e-12)!;
    expect(op!.pooled.sensitivity).toBeCloseTo(point.tpr, 12);
    expect(op!.pooled.specificity).toBeCloseTo(1 - point.fpr, 12);
    // At 0.5 the histograms give what the confusion counts give.
    expect(op!.pooledAtHalf.sensitivity).toBeCloseTo(float32.pooled.global.sensitivity!, 12);
    expect(op!.pooledAtHalf.specificity).toBeCloseTo(float32.pooled.global.specificity!, 12);
    expect(op!.sites.map((x) => x.siteId).sort()).toEqual(float32.sites.map((x) => x.id).sort());
    for (const x of op!.sites) for (const v of [x.at.ppv, x.at.npv]) if (v !== null) expect(v).toBeGreaterThan(0.5);
  });

  it("moves exactly one encoded body delta per site and round up, and int8 about a quarter of float32", () => {
    // lactate + its missing flag, age, ward B and C (A is the reference level).
    expect(layout.inputDim).toBe(5);
    for (const r of float32.rounds) expect(r.bytesUp).toBe(encodedSize(layout.bodySize, "float32") * SITES);
    for (const r of int8.rounds) expect(r.bytesUp).toBe(encodedSize(layout.bodySize, "int8") * SITES);
    const ratio = int8.bytes.up / float32.bytes.up;
    expect(ratio).toBeGreaterThan(0.25);
    expect(ratio).toBeLessThan(0.3);
  });

  it("sends sites int8 deltas of the model after the first round instead of the whole float32 model", () => {
    // Round 1 starts from model 0, which every site downloads whole; later rounds send the delta
    // from the model each site already holds. bytesDown also counts the task's JSON, alike in both runs.
    const saved = SITES * (encodedSize(layout.bodySize, "float32") - encodedSize(layout.bodySize, "int8"));
    const down = (report: RunReport, round: number) => report.rounds[round - 1]?.bytesDown ?? Number.NaN;
    expect(Math.abs(down(float32, 1) - down(int8, 1))).toBeLessThan(saved / 4);
    for (let round = 2; round <= ROUNDS; round++) expect(down(float32, round) - down(int8, round)).toBeGreaterThan(0.75 * saved);
  });

  it("leaves no raw training or test row in the object store", () => {
    // Prepare
    expect(objects, "simulateOnce did not call hooks.onStack(store) before teardown").not.toBeNull();
    const stored = [...(objects ?? new Map<string, string>()).values()];
    const rows = sites.flatMap((s) => [...s.train.rows, ...s.test.rows]);
    const needles = new Set(rows.flatMap((row) => [
      row.join(","),
      JSON.stringify(row),
      // A single raw numeric cell as a JSON string: pooled statistics are numbers, never quoted cells.
      ...row.slice(0, 2).filter((v) => v !== "").map((v) => JSON.stringify(v)),
    ]));

    // Execute
    const leaks = [...needles].filter((n) => stored.some((body) => body.includes(n)));

    // Assert
    expect(objects?.size).toBeGreaterThan(0);
    expect([...(objects?.keys() ?? [])].some((k) => k.includes("updates/"))).toBe(true);
    expect(leaks).toEqual([]);
  });
});
