import { describe, expect, it } from "vitest";
import { decodeUpdate, sha256Hex } from "../../core/codec/index.ts";
import { applyDownlink } from "../../core/model/downlink.ts";
import { ModelManifest } from "../../core/schemas/round.ts";
import { keys } from "../keys.ts";
import { readJson } from "../repo.ts";
import { delta, expectClose, fedAvgExpected, FlakyStore, Harness, testDeps } from "../../test/support/coordinator.ts";
import { aggregateRound } from "./aggregate/aggregate-round.ts";

const job = (round: number) => ({ kind: "aggregate" as const, federation: "test-fed", round });

async function aggregatedRound(config: { codec: string; downlinkCodec?: string }) {
  const h = new Harness();
  const sites = await h.startTraining(config);
  const parts = sites.map((_, i) => ({ delta: delta(i + 1), samples: [3, 2, 4][i]! }));
  for (const [i, site] of sites.entries()) await h.submit(site, 1, parts[i]!.delta, parts[i]!.samples);
  h.deps.queue.drain();
  expect(await aggregateRound(h.deps, job(1))).toBe("aggregated");
  return { h, sites, parts, model0: await h.model(0), model1: await h.model(1) };
}

describe("the coordinator's compressed down-link", () => {
  it("publishes, with each model, the delta that turns the base model into it, in the update codec", async () => {
    const { h, sites, parts, model0, model1 } = await aggregatedRound({ codec: "int8" });
    const manifest = await readJson(h.deps.store, keys.modelManifest(1), ModelManifest);
    const bytes = await h.deps.store.get(keys.modelDelta(1));
    expect(manifest?.delta).toEqual({ from: 0, codec: "int8", byteLength: bytes!.length, sha256: sha256Hex(bytes!) });
    // The published model is exactly what a site holding model 0 rebuilds …
    expect(Buffer.from(applyDownlink(model0, bytes!).buffer).equals(Buffer.from(model1.buffer))).toBe(true);
    // … and within int8's rounding of FedAvg's model.
    expectClose(model1, fedAvgExpected(model0, parts), 0.01);
    // Sites are offered the delta beside the whole model.
    const task = await h.task(sites[0]!);
    expect(task.kind === "train" && task.model).toMatchObject({ version: 1, delta: { from: 0, codec: "int8", byteLength: bytes!.length } });
  });

  it("sends whole models only with a float32 down-link", async () => {
    const { h, sites, parts, model0, model1 } = await aggregatedRound({ codec: "int8", downlinkCodec: "float32" });
    expect((await readJson(h.deps.store, keys.modelManifest(1), ModelManifest))?.delta).toBeUndefined();
    expect(await h.deps.store.get(keys.modelDelta(1))).toBeNull();
    const task = await h.task(sites[0]!);
    expect(task.kind === "train" && task.model.delta).toBeUndefined();
    // The update codec alone: FedAvg over the decoded int8 updates.
    expectClose(model1, fedAvgExpected(model0, parts), 0.01);
  });

  it("publishes the same model, delta and residual when a job that died part-way is delivered again", async () => {
    const clean = await aggregatedRound({ codec: "topk:0.5+int8" });
    // The same round, but the first delivery dies after publishing the model, before its audit record.
    const store = new FlakyStore();
    const h = new Harness(testDeps({ store }));
    const sites = await h.startTraining({ codec: "topk:0.5+int8" });
    for (const [i, site] of sites.entries()) await h.submit(site, 1, delta(i + 1), [3, 2, 4][i]!);
    h.deps.queue.drain();
    store.failNextPut((k) => k.startsWith("audit/round-"));
    await expect(aggregateRound(h.deps, job(1))).rejects.toThrow();
    expect(await aggregateRound(h.deps, job(1))).toBe("aggregated");
    for (const key of [keys.modelWeights(1), keys.modelDelta(1), keys.downlinkResidual(1)]) {
      const [a, b] = [await clean.h.deps.store.get(key), await h.deps.store.get(key)];
      expect(a && b && Buffer.from(a).equals(Buffer.from(b)), key).toBe(true);
    }
  });

  it("carries the residual into the next round's delta", async () => {
    // Dense updates up, top-k down: what the down-link drops is all the residual holds.
    const { h, sites, model1 } = await aggregatedRound({ codec: "int8", downlinkCodec: "topk:0.5+int8" });
    const residual1 = decodeUpdate((await h.deps.store.get(keys.downlinkResidual(1)))!).values;
    expect(residual1.some((v) => v !== 0)).toBe(true);
    for (const [i, site] of sites.entries()) await h.submit(site, 2, delta(i + 1), [3, 2, 4][i]!);
    expect(await h.runJobs()).toEqual(["aggregated"]);
    const model2 = await h.model(2);
    const delta1 = decodeUpdate((await h.deps.store.get(keys.modelDelta(1)))!).values;
    const delta2 = decodeUpdate((await h.deps.store.get(keys.modelDelta(2)))!).values;
    // Both rounds move by the same mean, so without the residual top-k would keep the same
    // coordinates twice; with it, coordinates dropped in round 1 are owed and some are sent now.
    const sentIn = (d: Float32Array) => Array.from(d.keys()).filter((i) => d[i] !== 0);
    const late = sentIn(delta2).filter((i) => delta1[i] === 0);
    expect(late.length).toBeGreaterThan(0);
    for (const i of late) expect(Math.sign(delta2[i]!)).toBe(Math.sign(residual1[i]!) || Math.sign(delta2[i]!));
    expect(Buffer.from(applyDownlink(model1, (await h.deps.store.get(keys.modelDelta(2)))!).buffer).equals(Buffer.from(model2.buffer))).toBe(true);
  });
});
