/**
 * A region's coordinator (`FederationConfig.upstream`) as its relay drives it: it never leaves the
 * statistics phase or opens a round by itself, and a round publishes the sites' weighted mean
 * instead of a model.
 */
import { describe, expect, it } from "vitest";
import { decodeUpdate } from "../../core/codec/index.ts";
import { initBody } from "../../core/model/init-params.ts";
import { seededRandom } from "../../core/random.ts";
import { modelLayout } from "../../core/model/layout.ts";
import { mergeSiteStats } from "../../core/preprocess/merge-stats.ts";
import { FederationConfig } from "../../core/schemas/federation.ts";
import { keys } from "../keys.ts";
import { delta, expectClose, federationConfig, Harness } from "../../test/support/coordinator.ts";
import { closeExpiredRounds } from "./close-expired-rounds.ts";
import { checkGlobalTask, openRegionalRound, regionalAggregate, regionStats } from "./region.ts";

const regional = { upstream: { region: "eu" } };

/** A region whose three sites have reported; round 1 opened by the relay on a "global" model 0. */
async function regionInRound1() {
  const h = new Harness();
  const sites = await h.startTraining(regional);
  const config = FederationConfig.parse(federationConfig(regional));
  const stats = await regionStats(h.deps);
  const preprocessing = mergeSiteStats([stats!], config.features);
  const model = initBody(modelLayout(config.model, preprocessing.inputs.length), seededRandom(3));
  await openRegionalRound(h.deps, { round: 1, version: 0, model, preprocessing });
  return { h, sites, model, preprocessing };
}

describe("a region's coordinator", () => {
  it("stays in the statistics phase once every site has reported, and pools their statistics for the relay", async () => {
    // Prepare
    const h = new Harness();
    await h.startTraining(regional);
    // Execute
    const tick = await closeExpiredRounds(h.deps);
    const pooled = await regionStats(h.deps);
    // Assert
    expect(tick.action).toBe("none");
    expect((await h.status()).state.phase).toBe("stats");
    expect(await h.deps.store.head(keys.preprocessing)).toBeNull();
    expect([pooled?.rows, pooled?.features.age?.kind]).toEqual([9, "numeric"]);
  });

  it("publishes a round's sample-weighted mean, not a model, and leaves the next round to the relay", async () => {
    // Prepare
    const { h, sites } = await regionInRound1();
    // Execute
    await h.finishRound(sites, 1);
    const aggregate = await regionalAggregate(h.deps, 1);
    const tick = await closeExpiredRounds(h.deps);
    // Assert
    if (aggregate === null || aggregate === "skipped") throw new Error("round 1 should have an aggregate");
    const rows = sites.map((s) => s.table.rows.length);
    const total = rows.reduce((a, b) => a + b, 0);
    const expected = Float64Array.from(delta(1), (_, i) => sites.reduce((sum, _s, k) => sum + (rows[k]! / total) * delta(k + 1)[i]!, 0));
    expectClose(aggregate.values, expected, 1e-6);
    expect(aggregate.manifest).toMatchObject({ round: 1, baseVersion: 0, samples: total, sites: sites.map((s) => s.siteId).sort() });
    expect(await h.deps.store.head(keys.modelManifest(1))).toBeNull();
    expect(tick.action).toBe("none");
    expect((await h.status()).state).toMatchObject({ phase: "training", round: 1 });
    expect(decodeUpdate((await h.deps.store.get(keys.regionalAggregate(1)))!, { codec: "float32" }).values).toEqual(aggregate.values);
  });

  it("aggregates round after round under a server optimizer, whose state only the global coordinator keeps", async () => {
    // Prepare: fedadam; the relay opens round 2 on a "global" model 1.
    const h = new Harness();
    const sites = await h.startTraining({ ...regional, strategy: "fedadam" });
    const config = FederationConfig.parse(federationConfig(regional));
    const preprocessing = mergeSiteStats([(await regionStats(h.deps))!], config.features);
    const model = initBody(modelLayout(config.model, preprocessing.inputs.length), seededRandom(3));
    await openRegionalRound(h.deps, { round: 1, version: 0, model, preprocessing });
    await h.finishRound(sites, 1);
    await openRegionalRound(h.deps, { round: 2, version: 1, model: model.map((v) => v + 0.01), preprocessing });
    // Execute
    await h.finishRound(sites, 2);
    // Assert
    expect(await regionalAggregate(h.deps, 2)).toMatchObject({ manifest: { round: 2, baseVersion: 1 } });
  });

  it("skips a round only one site sent an update to: one site's update never leaves the region", async () => {
    // Prepare
    const { h, sites } = await regionInRound1();
    await h.submit(sites[0]!, 1, delta(1), 3);
    h.deps.clock.advance(601_000);
    // Execute
    await closeExpiredRounds(h.deps);
    await h.runJobs();
    // Assert
    expect(await regionalAggregate(h.deps, 1)).toBe("skipped");
    expect(await h.deps.store.head(keys.regionalAggregate(1))).toBeNull();
    expect((await h.round(1))?.reason).toMatch(/^1 valid update\(s\): a region sends up the mean of at least 2 sites/);
  });

  it("opens a round once: a relay repeating the step changes nothing", async () => {
    // Prepare
    const { h, model, preprocessing } = await regionInRound1();
    const before = await h.round(1);
    // Execute
    await openRegionalRound(h.deps, { round: 1, version: 0, model, preprocessing });
    // Assert
    expect(await h.round(1)).toEqual(before);
  });

  it("lets the relay act only on a global task of the same federation, naming what differs", async () => {
    // Prepare
    const { h } = await regionInRound1();
    const config = FederationConfig.parse(federationConfig(regional));
    // Execute and Assert
    await expect(checkGlobalTask(h.deps, { rounds: config.rounds, codec: config.codec, spec: config.model, training: config.training, features: config.features })).resolves.toBeUndefined();
    await expect(checkGlobalTask(h.deps, { rounds: config.rounds + 1 })).rejects.toThrow(`the global federation's rounds is ${config.rounds + 1}, the region's ${config.rounds}`);
    await expect(checkGlobalTask(h.deps, { training: { ...config.training, learningRate: 0.5 } })).rejects.toThrow(/^the global federation's training is .*"learningRate":0\.5/);
    await expect(checkGlobalTask(h.deps, { privacy: { level: "sample", epsilon: 4, delta: 1e-5, clip: 1 } })).rejects.toThrow(/privacy policy is .*, the region's none/);
    await expect(checkGlobalTask(h.deps, { noise: { epsilon: 1, delta: 1e-6 } })).rejects.toMatchObject({ code: "REGION_MISMATCH" });
  });

  it.each([
    ["scaffold", { strategy: "scaffold" }],
    ["asynchronous rounds", { async: { bufferSize: 2, maxStaleness: 1 } }],
    ["scoring", { scoring: { enabled: true } }],
    ["client-level privacy", { privacy: { level: "client", epsilon: 8, delta: 1e-5, clip: 1 } }],
    ["a robust aggregator", { strategy: "median" }],
    ["one site", { expectedSites: 1 }],
    ["a quorum of one", { quorum: 1 }],
    ["a compressing codec", { codec: "int8" }],
  ])("is refused with %s", async (_, overrides) => {
    // Execute
    const res = await new Harness().admin("POST", "/v1/admin/federation", federationConfig({ ...regional, ...overrides } as Parameters<typeof federationConfig>[0]));
    // Assert
    expect(res).toMatchObject({ status: 400, body: { error: { code: "INVALID_CONFIG" } } });
  });
});
