import { describe, expect, it } from "vitest";
import { FederationState } from "../../core/schemas/federation.ts";
import { keys } from "../keys.ts";
import { readJson } from "../repo.ts";
import { MemoryJobQueue } from "../adapters/memory-job-queue.ts";
import { delta, expectClose, fedAvgExpected, FlakyStore, Harness, T0, testDeps } from "../../test/support/coordinator.ts";
import { closeExpiredRounds } from "./close-expired-rounds.ts";

const DEADLINE = T0 + 600_000;
/** The default grace period of a round in aggregation. */
const GRACE = 2 * 60 * 60_000;
const job = (round: number) => ({ kind: "aggregate", federation: "test-fed", round, run: 1 });

describe("closeExpiredRounds", () => {
  it("leaves a round alone up to and including its deadline", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    await h.submit(sites[0]!, 1, delta(1), 3);
    h.deps.clock.ms = DEADLINE;
    // Execute
    const result = await closeExpiredRounds(h.deps);
    // Assert
    expect(result).toMatchObject({ round: 1, action: "none" });
    expect(h.deps.queue.messages).toEqual([]);
    expect((await h.round(1))?.status).toBe("open");
  });

  it("queues a round past its deadline with at least one update, which then aggregates what it has", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const model0 = await h.model(0);
    await h.submit(sites[1]!, 1, delta(3), 2);
    h.deps.clock.ms = DEADLINE + 1;
    // Execute
    const result = await closeExpiredRounds(h.deps);
    const outcomes = await h.runJobs();
    // Assert
    expect(result).toMatchObject({ round: 1, action: "queued" });
    expect(outcomes).toEqual(["aggregated"]);
    expect((await h.round(1))?.included).toEqual([sites[1]!.siteId]);
    expectClose(await h.model(1), fedAvgExpected(model0, [{ delta: delta(3), samples: 2 }]));
    expect(await h.round(2)).toEqual({ round: 2, baseVersion: 1, status: "open", openedAt: DEADLINE + 1, deadline: DEADLINE + 1 + 600_000 });
  });

  it("skips a round past its deadline with no update and opens the next one from the same base model", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    h.deps.clock.ms = DEADLINE + 1;
    // Execute
    const result = await closeExpiredRounds(h.deps);
    // Assert
    expect(result).toMatchObject({ round: 1, action: "skipped" });
    expect(h.deps.queue.messages).toEqual([]);
    expect(await h.round(1)).toEqual({
      round: 1, baseVersion: 0, status: "skipped", openedAt: T0, deadline: DEADLINE, aggregationStartedAt: DEADLINE + 1, included: [],
      reason: "deadline passed with no updates", closedAt: DEADLINE + 1,
    });
    expect(await h.round(2)).toEqual({ round: 2, baseVersion: 0, status: "open", openedAt: DEADLINE + 1, deadline: DEADLINE + 1 + 600_000 });
    expect(await readJson(h.deps.store, keys.state, FederationState)).toEqual({ phase: "training", round: 2, modelVersion: 0, updatedAt: DEADLINE + 1 });
    expect(await h.task(sites[0]!)).toMatchObject({ kind: "train", round: 2, model: { version: 0 } });
  });

  it("lets the round after a skipped one aggregate on top of the unchanged base model", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const model0 = await h.model(0);
    h.deps.clock.ms = DEADLINE + 1;
    await closeExpiredRounds(h.deps);
    const parts = sites.map((_, i) => ({ delta: delta(i + 2), samples: i + 1 }));
    // Execute
    for (const [i, site] of sites.entries()) await h.submit(site, 2, parts[i]!.delta, parts[i]!.samples);
    const outcomes = await h.runJobs();
    // Assert
    expect(outcomes).toEqual(["aggregated"]);
    expect(await h.deps.store.head(keys.modelWeights(1))).toBeNull();
    expectClose(await h.model(2), fedAvgExpected(model0, parts));
    expect(await readJson(h.deps.store, keys.state, FederationState)).toMatchObject({ round: 3, modelVersion: 2 });
  });

  it("does nothing while statistics are being collected or while a round has been aggregating for up to the grace period", async () => {
    // Prepare
    const collecting = new Harness();
    await collecting.createFederation();
    collecting.deps.clock.advance(10 * 600_000);
    const aggregating = new Harness();
    const sites = await aggregating.startTraining();
    for (const [i, site] of sites.entries()) await aggregating.submit(site, 1, delta(i), 1);
    const round = (await aggregating.round(1))!;
    await aggregating.deps.store.put(keys.round(1), JSON.stringify({ ...round, status: "aggregating", aggregationStartedAt: DEADLINE }));
    aggregating.deps.clock.ms = DEADLINE + GRACE;
    aggregating.deps.queue.drain();
    // Execute
    const inStats = await closeExpiredRounds(collecting.deps);
    const inAggregation = await closeExpiredRounds(aggregating.deps);
    // Assert
    expect(inStats).toMatchObject({ round: 0, action: "none" });
    expect(inAggregation).toMatchObject({ round: 1, action: "none" });
    expect(aggregating.deps.queue.messages).toEqual([]);
  });

  it("does not re-queue a round whose job SQS may still be redelivering (3 receives of 30 minutes, infra/queue.ts)", async () => {
    // Prepare: the job's first delivery died; SQS retries it for up to 90 minutes before dead-lettering it.
    const store = new FlakyStore();
    const h = new Harness(testDeps({ store }));
    const sites = await h.startTraining();
    store.failNextPut((key) => key.startsWith("audit/round-"));
    await h.finishRound(sites, 1).catch(() => undefined);
    h.deps.clock.ms = T0 + 3 * 30 * 60_000 + 1;
    // Execute
    const result = await closeExpiredRounds(h.deps);
    // Assert
    expect(result).toMatchObject({ round: 1, action: "none" });
    expect(h.deps.queue.messages).toEqual([]);
    expect(await h.round(1)).toMatchObject({ status: "aggregating", aggregationStartedAt: T0 });
    expect(await h.round(1)).not.toHaveProperty("requeues");
  });

  it("opens the next round on the next tick when a skip died before opening it", async () => {
    // Prepare
    const store = new FlakyStore();
    const h = new Harness(testDeps({ store }));
    await h.startTraining();
    h.deps.clock.ms = DEADLINE + 1;
    store.failNextPut((key) => key === keys.state);
    const first = await closeExpiredRounds(h.deps).catch((error: unknown) => error);
    h.deps.clock.advance(60_000);
    // Execute
    const second = await closeExpiredRounds(h.deps);
    // Assert
    expect(first).toEqual(new Error(`injected failure writing ${keys.state}`));
    expect(second).toMatchObject({ round: 1, action: "none" });
    expect(await readJson(h.deps.store, keys.state, FederationState)).toMatchObject({ phase: "training", round: 2, modelVersion: 0 });
    expect((await h.round(2))?.openedAt).toBe(DEADLINE + 1);
  });

  it("opens the next round from the round's result when an aggregation died before opening it", async () => {
    // Prepare
    const store = new FlakyStore();
    const h = new Harness(testDeps({ store }));
    const sites = await h.startTraining();
    store.failNextPut((key) => key === keys.state);
    const crashed = await h.finishRound(sites, 1).catch((error: unknown) => error);
    // Execute
    const result = await closeExpiredRounds(h.deps);
    // Assert
    expect(crashed).toEqual(new Error(`injected failure writing ${keys.state}`));
    expect((await h.round(1))?.status).toBe("closed");
    expect(result).toMatchObject({ round: 1, action: "none" });
    expect(await readJson(h.deps.store, keys.state, FederationState)).toMatchObject({ phase: "training", round: 2, modelVersion: 1 });
  });

  it("re-queues the job of a round stuck aggregating for longer than the grace period, and counts it in the round", async () => {
    // Prepare: the job died after writing the model and went to the dead-letter queue. A FIFO queue has seen its dedupe key.
    const store = new FlakyStore();
    const h = new Harness({ ...testDeps({ store }), queue: new MemoryJobQueue({ fifo: true }) });
    const sites = await h.startTraining();
    h.deps.clock.advance(1_000);
    store.failNextPut((key) => key.startsWith("audit/round-"));
    const crashed = await h.finishRound(sites, 1).catch((error: unknown) => error);
    h.deps.clock.advance(GRACE);
    // Execute
    const early = await closeExpiredRounds(h.deps);
    h.deps.clock.advance(1);
    const result = await closeExpiredRounds(h.deps);
    const queued = h.deps.queue.messages.map((m) => JSON.parse(m));
    const outcomes = await h.runJobs();
    // Assert
    expect(crashed).toEqual(new Error(`injected failure writing ${keys.audit("round-000001")}`));
    expect(early).toMatchObject({ round: 1, action: "none" });
    expect(result).toMatchObject({ round: 1, action: "requeued" });
    expect(queued).toEqual([job(1)]);
    expect(outcomes).toEqual(["aggregated"]);
    expect(await h.round(1)).toMatchObject({ status: "closed", aggregationStartedAt: T0 + 1_000, requeues: 1, requeuedAt: T0 + 1_000 + GRACE + 1 });
    expect((await h.round(2))?.status).toBe("open");
  });

  it("waits a configured grace period again after each re-queue, counting every one", async () => {
    // Prepare: the first delivery dies after writing the model; every re-queued delivery is lost.
    const store = new FlakyStore();
    const h = new Harness({ ...testDeps({ store }), aggregationGraceMs: 60_000 });
    const sites = await h.startTraining();
    store.failNextPut((key) => key.startsWith("audit/round-"));
    await h.finishRound(sites, 1).catch(() => undefined);
    // Execute
    h.deps.clock.ms = T0 + 60_001;
    const first = await closeExpiredRounds(h.deps);
    const lost = h.deps.queue.drain().length;
    h.deps.clock.ms = T0 + 120_001;
    const tooSoon = await closeExpiredRounds(h.deps);
    h.deps.clock.ms = T0 + 120_002;
    const second = await closeExpiredRounds(h.deps);
    // Assert
    expect([first, tooSoon, second].map((r) => r.action)).toEqual(["requeued", "none", "requeued"]);
    expect(lost).toBe(1);
    expect(h.deps.queue.messages.map((m) => JSON.parse(m))).toEqual([job(1)]);
    expect(await h.round(1)).toMatchObject({ status: "aggregating", aggregationStartedAt: T0, requeues: 2, requeuedAt: T0 + 120_002 });
  });

  it("finishes leaving the stats phase on the next tick when a crash stopped it before model 0", async () => {
    // Prepare
    const store = new FlakyStore();
    const h = new Harness(testDeps({ store }));
    const sites = await h.enrolSites();
    store.failNextPut((key) => key === keys.modelWeights(0));
    for (const site of sites) await h.postStats(site);
    h.deps.clock.advance(60_000);
    // Execute
    const result = await closeExpiredRounds(h.deps);
    // Assert
    expect(result).toMatchObject({ round: 1, action: "opened" });
    expect(await h.round(1)).toEqual({ round: 1, baseVersion: 0, status: "open", openedAt: T0 + 60_000, deadline: T0 + 660_000 });
    expect(await readJson(h.deps.store, keys.state, FederationState)).toEqual({ phase: "training", round: 1, modelVersion: 0, updatedAt: T0 + 60_000 });
    expect(await h.deps.store.head(keys.modelWeights(0))).not.toBeNull();
  });

  it("leaves a stats phase whose statistics cannot be merged as it is, without failing the tick", async () => {
    // Prepare
    const h = new Harness();
    await h.createFederation({ expectedSites: 1 });
    const site = await h.enrol("St Mary's", { columns: ["age", "sex", "outcome"], rows: [["", "", "1"]] });
    await h.postStats(site);
    // Execute
    const result = await closeExpiredRounds(h.deps);
    // Assert
    expect(result).toMatchObject({ round: 0, action: "none" });
    expect((await h.status()).blocked?.code).toBe("STATS_MERGE_FAILED");
  });
});
