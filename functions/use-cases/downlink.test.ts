import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../core/codec/index.ts";
import { applyDownlink } from "../../core/model/downlink.ts";
import { ModelManifest } from "../../core/schemas/round.ts";
import { keys } from "../keys.ts";
import { readJson } from "../repo.ts";
import { delta, expectClose, fedAvgExpected, Harness } from "../testing.ts";
import { aggregateRound } from "./aggregate-round.ts";

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

  it("publishes the same model and delta when the job is delivered again", async () => {
    const first = await aggregatedRound({ codec: "topk:0.5+int8" });
    const again = await aggregatedRound({ codec: "topk:0.5+int8" });
    expect(Buffer.from(again.model1.buffer).equals(Buffer.from(first.model1.buffer))).toBe(true);
    const bytes = async (h: Harness) => Buffer.from((await h.deps.store.get(keys.modelDelta(1)))!);
    expect((await bytes(again.h)).equals(await bytes(first.h))).toBe(true);
  });
});
