/**
 * Buffered asynchronous rounds through the coordinator's API: a round closes at the buffer's size,
 * an update trained in an earlier round counts in the round open when it arrives, weighted by its
 * staleness, and one older than the bound is refused with its reason.
 */
import { describe, expect, it } from "vitest";
import { stalenessWeight } from "../../core/async/staleness-weight.ts";
import { StoredUpdate } from "../../core/schemas/round.ts";
import { keys } from "../keys.ts";
import { readJson } from "../repo.ts";
import { closeExpiredRounds } from "./close-expired-rounds.ts";
import { delta, expectClose, fedAvgExpected, federationConfig, FlakyStore, Harness, testDeps } from "../../test/support/coordinator.ts";

const policy = { bufferSize: 2, maxStaleness: 1, weighting: { kind: "polynomial" as const, a: 0.5 } };
/** Marks the round as the aggregator does when its job starts (the job itself not yet run). */
const aggregating = async (h: Harness, round: number) => {
  const r = await h.round(round);
  await h.deps.store.put(keys.round(round), new TextEncoder().encode(JSON.stringify({ ...r, status: "aggregating" })));
};
/** Three sites, buffer 2: round 1 has two updates and is aggregating, its job taken off the queue. */
const roundOneAggregating = async () => {
  const h = new Harness();
  const sites = await h.startTraining(async());
  await h.submit(sites[0]!, 1, delta(1), 3);
  await h.submit(sites[1]!, 1, delta(2), 2);
  const jobs = h.deps.queue.drain();
  await aggregating(h, 1);
  return { h, sites, jobs };
};
const async = (overrides: Parameters<typeof federationConfig>[0] = {}) => ({ async: policy, rounds: 4, ...overrides });

describe("asynchronous rounds", () => {
  it("closes a round at the buffer's size without waiting for the slowest site", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining(async());
    // Execute
    await h.submit(sites[0]!, 1, delta(1), 3);
    await h.submit(sites[1]!, 1, delta(2), 2);
    const outcomes = await h.runJobs();
    // Assert
    expect(outcomes).toEqual(["aggregated"]);
    expect((await h.status()).state).toMatchObject({ phase: "training", round: 2, modelVersion: 1 });
    expectClose(await h.model(1), fedAvgExpected(await h.model(0), [{ delta: delta(1), samples: 3 }, { delta: delta(2), samples: 2 }]));
  });

  it("counts a late update in the open round, weighted by its staleness, applied to the newer model", async () => {
    // Prepare: the third site trained from model 0 in round 1; it arrives once round 2 is open.
    const h = new Harness();
    const sites = await h.startTraining(async());
    await h.submit(sites[0]!, 1, delta(1), 3);
    await h.submit(sites[1]!, 1, delta(2), 2);
    await h.runJobs();
    const late = await h.upload(sites[2]!, 1, delta(3), 4);
    // Execute
    const res = await h.postUpdate(sites[2]!, 1, late);
    await h.submit(sites[0]!, 2, delta(4), 3);
    await h.runJobs();
    // Assert
    expect(res.status).toBe(202);
    const stored = await readJson(h.deps.store, keys.updateManifest(2, sites[2]!.siteId), StoredUpdate);
    expect(stored).toMatchObject({ round: 2, trainedIn: 1, baseVersion: 0, samples: 4 });
    const w = 4 * stalenessWeight(1, policy.weighting);
    expectClose(await h.model(2), fedAvgExpected(await h.model(1), [{ delta: delta(3), samples: w }, { delta: delta(4), samples: 3 }]), 1e-6);
    expect((await h.round(2))?.included).toEqual([sites[0]!.siteId, sites[2]!.siteId].sort());
  });

  it("keeps an update that arrives while the round aggregates for the next round", async () => {
    // Prepare: round 1 has its two updates and is aggregating (its job not yet run).
    const { h, sites, jobs } = await roundOneAggregating();
    // Execute
    const res = await h.postUpdate(sites[2]!, 1, await h.upload(sites[2]!, 1, delta(3), 4));
    for (const body of jobs) h.deps.queue.send(body, "again");
    await h.runJobs();
    await h.submit(sites[1]!, 2, delta(5), 2);
    await h.runJobs();
    // Assert
    expect(res.status).toBe(202);
    expect((await h.round(1))?.included).toEqual([sites[0]!.siteId, sites[1]!.siteId].sort());
    expect((await h.round(2))?.included).toEqual([sites[1]!.siteId, sites[2]!.siteId].sort());
    expect((await h.status()).state).toMatchObject({ round: 3, modelVersion: 2 });
  });

  it("refuses an update older than the bound, with the reason, and records it", async () => {
    // Prepare: two versions pass while the third site trains from model 0.
    const h = new Harness();
    const sites = await h.startTraining(async());
    const late = await h.upload(sites[2]!, 1, delta(3), 4);
    await h.submit(sites[0]!, 1, delta(1), 3);
    await h.submit(sites[1]!, 1, delta(2), 2);
    await h.runJobs();
    await h.submit(sites[0]!, 2, delta(1), 3);
    await h.submit(sites[1]!, 2, delta(2), 2);
    await h.runJobs();
    // Execute
    const res = await h.postUpdate(sites[2]!, 1, late);
    // Assert
    const message = `the update of site ${sites[2]!.siteId} was trained from model 0, 2 versions behind the model 2 it would be applied to; the bound is 1`;
    expect(res).toEqual({ status: 409, body: { error: { code: "STALE_UPDATE", message } } });
    expect((await h.rejections()).map((r) => r.code)).toContain("STALE_UPDATE");
  });

  it("refuses a second update of one site in one round, and updates once training is over", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining(async({ rounds: 1 }));
    await h.submit(sites[0]!, 1, delta(1), 3);
    // Execute
    const again = await h.postUpdate(sites[0]!, 1, await h.upload(sites[0]!, 1, delta(2), 3));
    await h.submit(sites[1]!, 1, delta(2), 2);
    await h.runJobs();
    const over = await h.postUpdate(sites[2]!, 1, await h.upload(sites[2]!, 1, delta(3), 4));
    // Assert
    expect(again).toMatchObject({ status: 409, body: { error: { code: "DUPLICATE_UPDATE" } } });
    expect(over).toEqual({ status: 409, body: { error: { code: "ROUND_CLOSED", message: "round 1 is not open for updates" } } });
  });

  it("refuses a forwarded update once training is over, naming the last round", async () => {
    // Prepare: two rounds; the third site trains in round 1 and arrives while round 2, the last, aggregates.
    const h = new Harness();
    const sites = await h.startTraining(async({ rounds: 2 }));
    const late = await h.upload(sites[2]!, 1, delta(3), 4);
    await h.finishRound(sites.slice(0, 2), 1);
    await h.submit(sites[0]!, 2, delta(1), 3);
    await h.submit(sites[1]!, 2, delta(2), 2);
    await aggregating(h, 2);
    // Execute
    const res = await h.postUpdate(sites[2]!, 1, late);
    // Assert
    expect(res).toEqual({ status: 409, body: { error: { code: "ROUND_CLOSED", message: "training is over: round 2 was the last" } } });
  });

  it("counts a retried update once: not again in a later round, counted or forwarded", async () => {
    // Prepare: site 0's update is counted in round 1, which then aggregates; site 2's is forwarded to round 2.
    const h = new Harness();
    const sites = await h.startTraining(async());
    const mine = await h.upload(sites[0]!, 1, delta(1), 3);
    await h.postUpdate(sites[0]!, 1, mine);
    await h.submit(sites[1]!, 1, delta(2), 2);
    await h.runJobs();
    const forwarded = await h.upload(sites[2]!, 1, delta(3), 4);
    await h.postUpdate(sites[2]!, 1, forwarded);
    // Execute: both posts again, as a runner's retry after a lost answer would.
    const counted = await h.postUpdate(sites[0]!, 1, mine);
    const again = await h.postUpdate(sites[2]!, 1, forwarded);
    // Assert
    expect(counted).toMatchObject({ status: 409, body: { error: { code: "DUPLICATE_UPDATE" } } });
    // The forwarded one is taken again as the retry it is, and still counts once, in round 2.
    expect(again).toMatchObject({ status: 202 });
    expect(await readJson(h.deps.store, keys.updateManifest(2, sites[0]!.siteId), StoredUpdate)).toBeNull();
    expect((await h.deps.store.list(keys.updatesPrefix(2))).filter((k) => k.endsWith(".json"))).toEqual([keys.updateManifest(2, sites[2]!.siteId)]);
  });

  it("counts a forwarded update retried after a crash between its marker and its manifest", async () => {
    // Prepare: the manifest write under round 2 fails once, after the forwarding marker was written.
    const store = new FlakyStore();
    const h = new Harness(testDeps({ store }));
    const sites = await h.startTraining(async());
    await h.submit(sites[0]!, 1, delta(1), 3);
    await h.submit(sites[1]!, 1, delta(2), 2);
    await h.runJobs();
    const late = await h.upload(sites[2]!, 1, delta(3), 4);
    store.failNextPut((key) => key === keys.updateManifest(2, sites[2]!.siteId));
    const crashed = await h.postUpdate(sites[2]!, 1, late);
    // Execute
    const retry = await h.postUpdate(sites[2]!, 1, late);
    // Assert
    expect(crashed.status).toBe(500);
    expect(retry.status).toBe(202);
    expect(await readJson(h.deps.store, keys.updateManifest(2, sites[2]!.siteId), StoredUpdate)).toMatchObject({ trainedIn: 1 });
  });

  it("judges staleness against the model the update will be applied to, when it waits for the next round", async () => {
    // Prepare: bound 0; round 1 is aggregating when site 2's round-1 update arrives: it would meet model 1, not 0.
    const h = new Harness();
    const sites = await h.startTraining(async({ async: { ...policy, maxStaleness: 0 } }));
    await h.submit(sites[0]!, 1, delta(1), 3);
    await h.submit(sites[1]!, 1, delta(2), 2);
    await aggregating(h, 1);
    // Execute
    const res = await h.postUpdate(sites[2]!, 1, await h.upload(sites[2]!, 1, delta(3), 4));
    // Assert: refused now, not accepted and then dropped by the aggregator.
    expect(res).toMatchObject({ status: 409, body: { error: { code: "STALE_UPDATE" } } });
  });

  it("queues a round that its forwarded updates fill, from the cron tick if not at its opening", async () => {
    // Prepare: two updates wait under round 2 before it opens, and the queueing at its opening is lost.
    const { h, sites, jobs } = await roundOneAggregating();
    await h.postUpdate(sites[2]!, 1, await h.upload(sites[2]!, 1, delta(3), 4));
    await h.deps.store.put(keys.updateManifest(2, "late-site"), await h.deps.store.get(keys.updateManifest(2, sites[2]!.siteId)).then((b) => b!));
    for (const body of jobs) h.deps.queue.send(body, "again");
    await h.runJobs();
    h.deps.queue.drain();
    // Execute
    const tick = await closeExpiredRounds(h.deps);
    // Assert
    expect(tick).toMatchObject({ round: 2, action: "queued" });
  });

  it("refuses asynchronous rounds with control variates or random-k", async () => {
    // Execute
    const scaffold = await new Harness().admin("POST", "/v1/admin/federation", federationConfig(async({ strategy: "scaffold" })));
    const randk = await new Harness().admin("POST", "/v1/admin/federation", federationConfig(async({ codec: "randk:0.5+int8" })));
    // Assert
    expect(scaffold).toMatchObject({ status: 400, body: { error: { code: "INVALID_CONFIG" } } });
    expect(randk).toMatchObject({ status: 400, body: { error: { code: "INVALID_CONFIG" } } });
  });
});
