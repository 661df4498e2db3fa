import { describe, expect, it } from "vitest";
import { ConsiliumError } from "../../../core/errors.ts";
import { encodeUpdate, sha256Hex } from "../../../core/codec/index.ts";
import { FederationState } from "../../../core/schemas/federation.ts";
import { ModelManifest, StoredUpdate, type RoundRecord } from "../../../core/schemas/round.ts";
import { createStrategy } from "../../../core/strategy/create-strategy.ts";
import { keys } from "../../keys.ts";
import { readJson, writeJson } from "../../repo.ts";
import { BODY_SIZE, delta, expectClose, fedAvgExpected, FlakyStore, Harness, T0, testDeps, type TestSite } from "../../../test/support/coordinator.ts";
import { aggregateRound } from "./aggregate-round.ts";

const job = (round: number, federation = "test-fed") => ({ kind: "aggregate" as const, federation, round });
const hex = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString("hex") : null);

/** Round 1 open, all three sites' valid updates accepted and the aggregate job queued (then dropped: tests run it). */
async function roundWithUpdates(h: Harness, samples = [3, 2, 4]): Promise<{ sites: TestSite[]; parts: { delta: Float32Array; samples: number }[] }> {
  const sites = await h.startTraining();
  const parts = sites.map((_, i) => ({ delta: delta(i + 1), samples: samples[i]! }));
  for (const [i, site] of sites.entries()) await h.submit(site, 1, parts[i]!.delta, parts[i]!.samples);
  h.deps.queue.drain();
  return { sites, parts };
}

/** Where the coordinator keeps the bytes it verified when it accepted the site's round-1 update. */
async function acceptedKey(h: Harness, site: TestSite): Promise<string> {
  const manifest = await readJson(h.deps.store, keys.updateManifest(1, site.siteId), StoredUpdate);
  return keys.acceptedBin(1, site.siteId, manifest!.sha256);
}

describe("aggregateRound", () => {
  it("aggregates the bytes verified at acceptance even when the site uploads other bytes afterwards", async () => {
    // Prepare: the presigned PUT outlives the manifest's acceptance.
    const h = new Harness();
    const { sites, parts } = await roundWithUpdates(h);
    await h.upload(sites[0]!, 1, delta(50), 3);
    const model0 = await h.model(0);
    // Execute
    const outcome = await aggregateRound(h.deps, job(1));
    // Assert
    expect(outcome).toBe("aggregated");
    expect((await h.round(1))?.rejected).toEqual([]);
    expectClose(await h.model(1), fedAvgExpected(model0, parts));
    expect(await h.rejections()).toEqual([]);
  });

  it("rejects an accepted copy that no longer matches its manifest with CHECKSUM_MISMATCH, and aggregates the others", async () => {
    // Prepare
    const h = new Harness();
    const { sites, parts } = await roundWithUpdates(h);
    const [a, b, c] = sites as [TestSite, TestSite, TestSite];
    await h.deps.store.put(await acceptedKey(h, a), encodeUpdate(delta(50), "float32"));
    const model0 = await h.model(0);
    h.deps.clock.advance(1_000);
    // Execute
    const outcome = await aggregateRound(h.deps, job(1));
    // Assert
    const message = "update bytes do not match the manifest's sha256";
    expect(outcome).toBe("aggregated");
    const round = await h.round(1);
    expect(round?.status).toBe("closed");
    expect(round?.included).toEqual([a, b, c].map((s) => s.siteId).sort());
    expect(round?.rejected).toEqual([{ siteId: a.siteId, code: "CHECKSUM_MISMATCH", message }]);
    expectClose(await h.model(1), fedAvgExpected(model0, parts.slice(1)));
    expect(await readJson(h.deps.store, keys.modelManifest(1), ModelManifest)).toMatchObject({ sites: [b.siteId, c.siteId].sort(), samples: 6 });
    expect(await h.rejections()).toEqual([{ at: T0 + 1_000, siteId: a.siteId, round: 1, code: "CHECKSUM_MISMATCH", message }]);
    expect((await h.status()).rejections).toHaveLength(1);
    expect((await h.round(2))?.status).toBe("open");
  });

  it("rejects an update whose accepted copy vanished before aggregation with MISSING_UPDATE", async () => {
    // Prepare
    const h = new Harness();
    const { sites, parts } = await roundWithUpdates(h);
    await h.deps.store.delete(await acceptedKey(h, sites[2]!));
    const model0 = await h.model(0);
    // Execute
    const outcome = await aggregateRound(h.deps, job(1));
    // Assert
    expect(outcome).toBe("aggregated");
    expect((await h.round(1))?.rejected).toEqual([
      { siteId: sites[2]!.siteId, code: "MISSING_UPDATE", message: `the accepted copy of site ${sites[2]!.siteId}'s update for round 1 is missing` },
    ]);
    expectClose(await h.model(1), fedAvgExpected(model0, parts.slice(0, 2)));
  });

  it("skips the round when no update survives re-verification, and trains on from the same model", async () => {
    // Prepare
    const h = new Harness();
    const { sites } = await roundWithUpdates(h);
    for (const site of sites) await h.deps.store.put(await acceptedKey(h, site), "tampered");
    // Execute
    const outcome = await aggregateRound(h.deps, job(1));
    // Assert
    expect(outcome).toBe("skipped");
    const round = await h.round(1);
    expect(round?.status).toBe("skipped");
    expect(round?.reason).toBe("no valid updates");
    // FedAvg streams its updates: an 8-byte object ends before its header does.
    expect(round?.rejected?.map((r) => r.code)).toEqual(["TRUNCATED", "TRUNCATED", "TRUNCATED"]);
    expect(await h.deps.store.head(keys.modelWeights(1))).toBeNull();
    expect((await h.round(2))?.baseVersion).toBe(0);
    expect(await readJson(h.deps.store, keys.state, FederationState)).toMatchObject({ phase: "training", round: 2, modelVersion: 0 });
  });

  it("fixes the set of updates when it starts: an update accepted afterwards is not included", async () => {
    // Prepare: quorum 2, so the job is queued while the third site is still training.
    const h = new Harness();
    const sites = await h.startTraining({ quorum: 2 });
    await h.submit(sites[0]!, 1, delta(1), 1);
    await h.submit(sites[1]!, 1, delta(2), 1);
    // Execute
    const outcome = await aggregateRound(h.deps, job(1));
    const late = await h.postUpdate(sites[2]!, 1, await h.upload(sites[2]!, 1, delta(3), 1));
    // Assert
    expect(outcome).toBe("aggregated");
    expect((await h.round(1))?.included).toEqual([sites[0]!.siteId, sites[1]!.siteId].sort());
    expect(late.status).toBe(409);
  });

  it("finishes a job that died after writing the model, with the same model bytes, whatever the sites uploaded meanwhile", async () => {
    // Prepare
    const store = new FlakyStore();
    const h = new Harness(testDeps({ store }));
    const { sites } = await roundWithUpdates(h);
    store.failNextPut((key) => key.startsWith("audit/round-"));
    // Execute
    const first = await aggregateRound(h.deps, job(1)).catch((error: unknown) => error);
    const weightsAfterCrash = hex(await store.get(keys.modelWeights(1)));
    const roundAfterCrash = await h.round(1);
    await h.upload(sites[1]!, 1, delta(-7), 2);
    h.deps.clock.advance(30_000);
    const second = await aggregateRound(h.deps, job(1));
    // Assert
    expect(first).toEqual(new Error(`injected failure writing ${keys.audit("round-000001")}`));
    expect(roundAfterCrash?.status).toBe("aggregating");
    expect(second).toBe("aggregated");
    expect(hex(await store.get(keys.modelWeights(1)))).toBe(weightsAfterCrash);
    expect((await h.round(1))?.status).toBe("closed");
    expect((await h.round(1))?.rejected).toEqual([]);
    expect((await h.round(2))?.status).toBe("open");
  });

  it("opens the next round on redelivery when the job died between closing the round and opening the next", async () => {
    // Prepare
    const store = new FlakyStore();
    const h = new Harness(testDeps({ store }));
    const { sites } = await roundWithUpdates(h);
    store.failNextPut((key) => key === keys.state);
    const first = await aggregateRound(h.deps, job(1)).catch((error: unknown) => error);
    // Execute
    const second = await aggregateRound(h.deps, job(1));
    // Assert
    expect(first).toEqual(new Error(`injected failure writing ${keys.state}`));
    expect(second).toBe("already-done");
    expect(await readJson(h.deps.store, keys.state, FederationState)).toMatchObject({ phase: "training", round: 2, modelVersion: 1 });
    expect(await h.task(sites[0]!)).toMatchObject({ kind: "train", round: 2, model: { version: 1 } });
  });

  it("leaves the federation where it is when a stale job for an old round is redelivered", async () => {
    // Prepare
    const h = new Harness();
    const { sites } = await roundWithUpdates(h);
    await aggregateRound(h.deps, job(1));
    for (const [i, site] of sites.entries()) await h.submit(site, 2, delta(i), 1);
    await h.runJobs();
    const before = await readJson(h.deps.store, keys.state, FederationState);
    // Execute
    const outcome = await aggregateRound(h.deps, job(1));
    // Assert
    expect(outcome).toBe("already-done");
    expect(before).toMatchObject({ round: 3, modelVersion: 2 });
    expect(await readJson(h.deps.store, keys.state, FederationState)).toEqual(before);
  });

  it("leaves the federation where it is when a round it has moved past is aggregated again", async () => {
    // Prepare: a re-queue raced the close of round 1 and put it back to aggregating; rounds 2 and 3 went on.
    const h = new Harness();
    const { sites } = await roundWithUpdates(h);
    await aggregateRound(h.deps, job(1));
    const closed = (await h.round(1))!;
    await h.finishRound(sites, 2);
    await h.deps.store.put(keys.round(1), JSON.stringify({ ...closed, status: "aggregating" }));
    const before = await readJson(h.deps.store, keys.state, FederationState);
    const weights = hex(await h.deps.store.get(keys.modelWeights(1)));
    h.deps.clock.advance(60_000);
    // Execute
    const outcome = await aggregateRound(h.deps, job(1));
    // Assert
    expect(outcome).toBe("aggregated");
    expect(before).toMatchObject({ phase: "training", round: 3, modelVersion: 2 });
    expect(await readJson(h.deps.store, keys.state, FederationState)).toEqual(before);
    expect(hex(await h.deps.store.get(keys.modelWeights(1)))).toBe(weights);
    expect((await h.round(1))?.status).toBe("closed");
  });

  it("carries a stateful strategy's state from one round to the next", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining({ strategy: "fedadam:0.1" });
    const strategy = createStrategy("fedadam:0.1");
    const model0 = await h.model(0);
    // Execute
    for (const round of [1, 2]) {
      for (const [i, site] of sites.entries()) await h.submit(site, round, delta(i + round), 1 + i);
      await h.runJobs();
    }
    // Assert
    const updates = (round: number) => sites.map((s, i) => ({ siteId: s.siteId, delta: delta(i + round), weight: 1 + i })).sort((x, y) => (x.siteId < y.siteId ? -1 : 1));
    const one = strategy.aggregate({ global: model0, updates: updates(1) }, strategy.init(model0.length));
    if (one.kind !== "model") throw new Error("round 1 skipped");
    const two = strategy.aggregate({ global: one.model, updates: updates(2) }, one.state);
    if (two.kind !== "model") throw new Error("round 2 skipped");
    expectClose(await h.model(1), one.model);
    expectClose(await h.model(2), two.model);
  });

  it("refuses a job for another federation with WRONG_FEDERATION and one for an unknown round with NO_ROUND", async () => {
    // Prepare
    const h = new Harness();
    await roundWithUpdates(h);
    // Execute
    const wrong = aggregateRound(h.deps, job(1, "other-fed"));
    const unknown = aggregateRound(h.deps, job(9));
    // Assert
    await expect(wrong).rejects.toEqual(new ConsiliumError("WRONG_FEDERATION", "job for other-fed, store holds test-fed", 400));
    await expect(wrong).rejects.toMatchObject({ code: "WRONG_FEDERATION" });
    await expect(unknown).rejects.toMatchObject({ code: "NO_ROUND", message: "round 9 not found", status: 404 });
    expect((await h.round(1))?.status).toBe("open");
  });

  it("fails the job on a transient read error of an accepted update, and the retried job aggregates every site", async () => {
    // Prepare
    const store = new FlakyStore();
    const h = new Harness(testDeps({ store }));
    const { sites, parts } = await roundWithUpdates(h);
    const model0 = await h.model(0);
    const key = await acceptedKey(h, sites[1]!);
    store.failNextGet((k) => k === key);
    // Execute
    const first = await aggregateRound(h.deps, job(1)).catch((error: unknown) => error);
    const afterFailure = await h.round(1);
    const modelAfterFailure = await store.head(keys.modelWeights(1));
    const retried = await aggregateRound(h.deps, job(1));
    // Assert
    expect(first).toEqual(new Error(`injected failure reading ${key}`));
    expect(afterFailure?.status).toBe("aggregating");
    expect(modelAfterFailure).toBeNull();
    expect(retried).toBe("aggregated");
    expect((await h.round(1))?.rejected).toEqual([]);
    expect(await h.rejections()).toEqual([]);
    expectClose(await h.model(1), fedAvgExpected(model0, parts));
  });

  it("rejects an accepted update beyond the federation's bound with UPDATE_OUT_OF_RANGE, and aggregates the others", async () => {
    // Prepare: the first site's update was accepted by a coordinator that did not check the bound.
    const h = new Harness();
    const { sites, parts } = await roundWithUpdates(h);
    const a = sites[0]!;
    const bytes = encodeUpdate(new Float32Array(BODY_SIZE).fill(3e38), "float32");
    const manifest = (await readJson(h.deps.store, keys.updateManifest(1, a.siteId), StoredUpdate))!;
    await h.deps.store.put(keys.acceptedBin(1, a.siteId, sha256Hex(bytes)), bytes);
    await writeJson(h.deps.store, keys.updateManifest(1, a.siteId), { ...manifest, sha256: sha256Hex(bytes) });
    const model0 = await h.model(0);
    // Execute
    const outcome = await aggregateRound(h.deps, job(1));
    // Assert
    const message = "update holds a value of magnitude 3e+38, above the federation's bound of 10000";
    expect(outcome).toBe("aggregated");
    expect((await h.round(1))?.rejected).toEqual([{ siteId: a.siteId, code: "UPDATE_OUT_OF_RANGE", message }]);
    expect(await h.rejections()).toEqual([{ at: T0, siteId: a.siteId, round: 1, code: "UPDATE_OUT_OF_RANGE", message }]);
    expectClose(await h.model(1), fedAvgExpected(model0, parts.slice(1)));
  });

  it("skips a round whose aggregate is not finite, records why, and trains on from the same model", async () => {
    // Prepare: updates within a (loose) bound that the server step of 10 pushes past float32.
    const h = new Harness();
    const sites = await h.startTraining({ strategy: "fedavg:10", maxUpdateAbs: 1e38 });
    for (const site of sites) await h.submit(site, 1, new Float32Array(BODY_SIZE).fill(1e38), 1);
    // Execute
    const outcomes = await h.runJobs();
    const redelivered = await aggregateRound(h.deps, job(1));
    // Assert
    const message = "round 1: aggregate is not finite (strategy fedavg:10); skipped, training goes on from model 0";
    expect(outcomes).toEqual(["skipped"]);
    expect(redelivered).toBe("already-done");
    expect(await h.round(1)).toMatchObject({ status: "skipped", reason: "aggregate is not finite", rejected: [] } satisfies Partial<RoundRecord>);
    expect(await h.rejections()).toEqual([{ at: T0, siteId: null, round: 1, code: "AGGREGATE_NOT_FINITE", message }]);
    expect(await h.deps.store.head(keys.modelWeights(1))).toBeNull();
    expect(await h.round(2)).toMatchObject({ status: "open", baseVersion: 0 });
    expect(await h.task(sites[0]!)).toMatchObject({ kind: "train", round: 2, model: { version: 0 } });
  });

  it("fails the job with CORRUPT_STATE when a stateful strategy's stored state is missing, rather than starting it afresh", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining({ strategy: "fedadam:0.1" });
    await h.finishRound(sites, 1);
    await h.deps.store.delete(keys.strategyState(1));
    for (const [i, site] of sites.entries()) await h.submit(site, 2, delta(i + 2), 1);
    h.deps.queue.drain();
    // Execute
    const outcome = aggregateRound(h.deps, job(2));
    // Assert
    const message = `strategy state ${keys.strategyState(1)} of model 1 is missing; fedadam:0.1 cannot go on without it`;
    await expect(outcome).rejects.toEqual(new ConsiliumError("CORRUPT_STATE", message, 500));
    await expect(outcome).rejects.toMatchObject({ code: "CORRUPT_STATE", status: 500 });
    expect((await h.round(2))?.status).toBe("aggregating");
    expect(await h.deps.store.head(keys.modelWeights(2))).toBeNull();
  });

  it("goes on from an empty state when a strategy that keeps none (FedAvg) lacks its stored state", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    await h.finishRound(sites, 1);
    await h.deps.store.delete(keys.strategyState(1));
    const model1 = await h.model(1);
    const parts = sites.map((s, i) => ({ delta: delta(i + 2), samples: s.table.rows.length }));
    for (const [i, site] of sites.entries()) await h.submit(site, 2, parts[i]!.delta, parts[i]!.samples);
    h.deps.queue.drain();
    // Execute
    const outcome = await aggregateRound(h.deps, job(2));
    // Assert
    expect(outcome).toBe("aggregated");
    expectClose(await h.model(2), fedAvgExpected(model1, parts));
  });
});

describe("aggregateRound's two ways of reading updates", () => {
  /** A memory store that records which keys were read whole and which as streams. */
  class ReadLog extends FlakyStore {
    readonly whole: string[] = [];
    readonly streamed: string[] = [];
    override async get(key: string) {
      this.whole.push(key.replace(/^runs\/\d{6}\//, ""));
      return super.get(key);
    }
    override async getStream(key: string) {
      this.streamed.push(key.replace(/^runs\/\d{6}\//, ""));
      return super.getStream(key);
    }
  }

  async function run(strategy: string, codec: string) {
    const store = new ReadLog();
    const h = new Harness(testDeps({ store }));
    const sites = await h.startTraining({ strategy, codec });
    const parts = sites.map((_, i) => ({ delta: delta(i + 1), samples: [3, 2, 4][i]! }));
    for (const [i, site] of sites.entries()) await h.submit(site, 1, parts[i]!.delta, parts[i]!.samples);
    h.deps.queue.drain();
    const accepted = await Promise.all(sites.map((s) => acceptedKey(h, s)));
    store.whole.length = 0;
    store.streamed.length = 0;
    expect(await aggregateRound(h.deps, job(1))).toBe("aggregated");
    return {
      model: await h.model(1),
      model0: await h.model(0),
      parts,
      whole: store.whole.filter((k) => accepted.includes(k)),
      streamed: store.streamed.filter((k) => accepted.includes(k)),
    };
  }

  it.each(["float32", "int8", "topk:0.5+int8"])("streams %s updates into their mean for FedAvg, and decodes them for a strategy that needs them all", async (codec) => {
    const streamed = await run("fedavg", codec);
    // A clip no update reaches changes nothing but needs every update at once.
    const decoded = await run("clip:1e9,mean", codec);
    expect(streamed.streamed).toHaveLength(3);
    expect(streamed.whole).toEqual([]);
    expect(decoded.whole).toHaveLength(3);
    expect(decoded.streamed).toEqual([]);
    expectClose(streamed.model, decoded.model);
    if (codec === "float32") expectClose(streamed.model, fedAvgExpected(streamed.model0, streamed.parts));
  });
});
