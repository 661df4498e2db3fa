import { describe, expect, it } from "vitest";
import { decodeUpdate, encodedSize, sha256Hex, sharedSeed } from "../../core/codec/index.ts";
import { taskSeed } from "../../core/schemas/task-seed.ts";
import { keys } from "../keys.ts";
import { BODY_SIZE, delta, expectClose, fedAvgExpected, FlakyStore, Harness, T0, testDeps, type TestSite } from "../../test/support/coordinator.ts";
import { aggregateRound } from "./aggregate/aggregate-round.ts";

const DEADLINE = T0 + 600_000;
const job = { kind: "aggregate" as const, federation: "test-fed", round: 1 };

/** Quorum 2: the first two sites' updates are accepted and the job is queued (then dropped: tests run it). */
async function quorumReached(h: Harness): Promise<[TestSite, TestSite, TestSite]> {
  const sites = await h.startTraining({ quorum: 2 });
  await h.submit(sites[0]!, 1, delta(1), 3);
  await h.submit(sites[1]!, 1, delta(2), 2);
  h.deps.queue.drain();
  return sites as [TestSite, TestSite, TestSite];
}

describe("submitUpdate: an update racing the start of aggregation", () => {
  it("refuses with ROUND_CLOSED, records, and forgets an update whose manifest lands after the aggregation fixed its set", async () => {
    // Prepare: the third site passed the open check; the whole aggregation runs before its manifest is written.
    const store = new FlakyStore();
    const h = new Harness(testDeps({ store }));
    const [a, b, late] = await quorumReached(h);
    const model0 = await h.model(0);
    const manifest = await h.upload(late, 1, delta(3), 4);
    store.beforeNextPut((key) => key === keys.updateManifest(1, late.siteId), () => aggregateRound(h.deps, job));
    // Execute
    const res = await h.postUpdate(late, 1, manifest);
    // Assert
    const message = `round 1 started aggregating before the update of site ${late.siteId} was recorded; it is not included`;
    expect(res).toEqual({ status: 409, body: { error: { code: "ROUND_CLOSED", message } } });
    expect(await h.rejections()).toEqual([{ at: T0, siteId: late.siteId, round: 1, code: "ROUND_CLOSED", message: `POST /v1/rounds/1/updates: ${message}` }]);
    expect((await h.round(1))?.included).toEqual([a.siteId, b.siteId].sort());
    expect(await store.head(keys.updateManifest(1, late.siteId))).toBeNull();
    const updates = new Map((await h.status()).sites.map((s) => [s.id, s.updates]));
    expect([a, b, late].map((s) => updates.get(s.siteId))).toEqual([1, 1, 0]);
    expectClose(await h.model(1), fedAvgExpected(model0, [{ delta: delta(1), samples: 3 }, { delta: delta(2), samples: 2 }]));
  });

  it("includes, and answers 202 to, an update whose manifest lands after the round closed but before its set was fixed", async () => {
    // Prepare: the aggregator shuts the round, then dies before fixing the set, while the third site's manifest is in flight.
    const store = new FlakyStore();
    const h = new Harness(testDeps({ store }));
    const [a, b, c] = await quorumReached(h);
    const model0 = await h.model(0);
    const manifest = await h.upload(c, 1, delta(3), 4);
    let crash: unknown = null;
    store.beforeNextPut(
      (key) => key === keys.updateManifest(1, c.siteId),
      async () => {
        store.failNextPut((key) => key === keys.includedSet(1));
        crash = await aggregateRound(h.deps, job).catch((error: unknown) => error);
      },
    );
    // Execute
    const res = await h.postUpdate(c, 1, manifest);
    const outcome = await aggregateRound(h.deps, job);
    // Assert
    expect(crash).toEqual(new Error(`injected failure writing ${keys.includedSet(1)}`));
    expect(res).toEqual({ status: 202, body: { queued: true } });
    expect(outcome).toBe("aggregated");
    expect((await h.round(1))?.included).toEqual([a.siteId, b.siteId, c.siteId].sort());
    expect(await h.rejections()).toEqual([]);
    const parts = [{ delta: delta(1), samples: 3 }, { delta: delta(2), samples: 2 }, { delta: delta(3), samples: 4 }];
    expectClose(await h.model(1), fedAvgExpected(model0, parts));
  });
});

describe("submitUpdate: deadline", () => {
  it("takes an update at the deadline and refuses one a millisecond later with DEADLINE_PASSED, recorded", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const onTime = await h.upload(sites[0]!, 1, delta(1), 3);
    const late = await h.upload(sites[1]!, 1, delta(2), 3);
    h.deps.clock.ms = DEADLINE;
    // Execute
    const accepted = await h.postUpdate(sites[0]!, 1, onTime);
    h.deps.clock.ms = DEADLINE + 1;
    const refused = await h.postUpdate(sites[1]!, 1, late);
    // Assert
    const message = "round 1 stopped taking updates at its deadline, 2023-11-14T22:23:20.000Z";
    expect(accepted).toEqual({ status: 202, body: { queued: false } });
    expect(refused).toEqual({ status: 409, body: { error: { code: "DEADLINE_PASSED", message } } });
    expect(await h.rejections()).toEqual([{ at: DEADLINE + 1, siteId: sites[1]!.siteId, round: 1, code: "DEADLINE_PASSED", message: `POST /v1/rounds/1/updates: ${message}` }]);
    expect(await h.deps.store.head(keys.updateManifest(1, sites[1]!.siteId))).toBeNull();
  });
});

describe("submitUpdate: the accepted bytes", () => {
  it("keeps a write-once copy of the bytes it verified, which a later upload to the presigned URL cannot change", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const manifest = await h.upload(sites[0]!, 1, delta(1), 3);
    await h.postUpdate(sites[0]!, 1, manifest);
    const accepted = await h.deps.store.get(keys.acceptedBin(1, sites[0]!.siteId, manifest.sha256));
    // Execute
    await h.upload(sites[0]!, 1, delta(40), 3);
    // Assert
    expect(accepted && sha256Hex(accepted)).toBe(manifest.sha256);
    expect(await h.deps.store.get(keys.acceptedBin(1, sites[0]!.siteId, manifest.sha256))).toEqual(accepted);
  });
});

describe("submitUpdate: the round's record", () => {
  it("answers a transient failure to read the round with 500, not ROUND_CLOSED, and takes the site's retry", async () => {
    // Prepare
    const store = new FlakyStore();
    const h = new Harness(testDeps({ store }));
    const sites = await h.startTraining();
    const manifest = await h.upload(sites[0]!, 1, delta(1), 3);
    store.failNextGet((key) => key === keys.round(1));
    // Execute
    const failed = await h.postUpdate(sites[0]!, 1, manifest);
    const retry = await h.postUpdate(sites[0]!, 1, manifest);
    // Assert
    expect(failed).toEqual({ status: 500, body: { error: { code: "INTERNAL", message: "internal error" } } });
    expect(retry).toEqual({ status: 202, body: { queued: false } });
    expect(await h.rejections()).toEqual([]);
  });

  it("answers a corrupt round record with 500 CORRUPT_STATE, not ROUND_CLOSED, and keeps nothing", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const manifest = await h.upload(sites[0]!, 1, delta(1), 3);
    await h.deps.store.put(keys.round(1), "{ not json");
    // Execute
    const res = await h.postUpdate(sites[0]!, 1, manifest);
    // Assert
    expect(res).toEqual({ status: 500, body: { error: { code: "CORRUPT_STATE", message: "internal error" } } });
    expect(await h.deps.store.head(keys.updateManifest(1, sites[0]!.siteId))).toBeNull();
    expect(h.deps.logger.entries.filter((e) => e.level === "error").map((e) => e.message)).toEqual(["request failed"]);
  });
});

describe("submitUpdate: sparse codecs", () => {
  it("presigns and accepts a top-k update of the size its spec implies, and aggregates what it decodes to", async () => {
    // Prepare: 13 values at fraction 0.25 keep 4.
    const h = new Harness();
    const sites = await h.startTraining({ codec: "topk:0.25+int8" });
    const task = await h.task(sites[0]!);
    const model0 = await h.model(0);
    const manifests = await Promise.all(sites.map((site, i) => h.upload(site, 1, delta(i + 1), site.table.rows.length)));

    // Execute
    const replies = [];
    for (const [i, site] of sites.entries()) replies.push(await h.postUpdate(site, 1, manifests[i]));
    await h.runJobs();

    // Assert
    const size = encodedSize(BODY_SIZE, "topk-int8", { fraction: 0.25 });
    expect(task.kind === "train" && task.upload.byteLength).toBe(size);
    expect(manifests.map((m) => m.byteLength)).toEqual([size, size, size]);
    expect(replies.map((r) => r.status)).toEqual([202, 202, 202]);
    const sent = await Promise.all(sites.map(async (site, i) => decodeUpdate((await h.deps.store.get(keys.acceptedBin(1, site.siteId, manifests[i]!.sha256)))!).values));
    expect(sent.map((values) => values.filter((v) => v !== 0).length)).toEqual([4, 4, 4]);
    expectClose(await h.model(1), fedAvgExpected(model0, sent.map((values, i) => ({ delta: values, samples: sites[i]!.table.rows.length }))));
  });

  it("refuses a top-k update that keeps another share of the values with SIZE_MISMATCH", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining({ codec: "topk:0.25+int8" });
    const manifest = await h.upload(sites[0]!, 1, delta(1), 3, "topk:0.5+int8");

    // Execute
    const res = await h.postUpdate(sites[0]!, 1, { ...manifest, codec: "topk:0.25+int8" });

    // Assert
    const message = `update must be ${encodedSize(BODY_SIZE, "topk-int8", { fraction: 0.25 })} bytes, manifest says ${encodedSize(BODY_SIZE, "topk-int8", { fraction: 0.5 })}`;
    expect(res).toEqual({ status: 422, body: { error: { code: "SIZE_MISMATCH", message } } });
  });

  it("accepts a rand-k update drawn from the round's seed, which a site derives from its task", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining({ codec: "randk:0.25+int8", seed: 11 });
    const task = await h.task(sites[0]!);
    const seed = task.kind === "train" ? sharedSeed(task.seed) : -1;
    const manifest = await h.upload(sites[0]!, 1, delta(1), 3, "randk:0.25+int8", { seed });

    // Execute
    const res = await h.postUpdate(sites[0]!, 1, manifest);

    // Assert
    expect(seed).toBe(sharedSeed(taskSeed(11, 1)));
    expect(res).toEqual({ status: 202, body: { queued: false } });
  });

  it("refuses a rand-k update of the right size drawn from another seed with SEED_MISMATCH, recorded", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining({ codec: "randk:0.25+int8", seed: 11 });
    const round = sharedSeed(taskSeed(11, 1));
    const manifest = await h.upload(sites[0]!, 1, delta(1), 3, "randk:0.25+int8", { seed: 12345 });

    // Execute
    const res = await h.postUpdate(sites[0]!, 1, manifest);

    // Assert
    const message = `update draws its coordinates from seed 12345, the round's seed is ${round}`;
    expect(manifest.byteLength).toBe(encodedSize(BODY_SIZE, "randk-int8", { fraction: 0.25 }));
    expect(res).toEqual({ status: 422, body: { error: { code: "SEED_MISMATCH", message } } });
    expect(await h.rejections()).toEqual([{ at: T0, siteId: sites[0]!.siteId, round: 1, code: "SEED_MISMATCH", message: `POST /v1/rounds/1/updates: ${message}` }]);
  });
});
