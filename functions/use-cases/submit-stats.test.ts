import { describe, expect, it } from "vitest";
import { computeSiteStats } from "../../core/preprocess/site-stats.ts";
import type { Table } from "../../core/preprocess/table.ts";
import { FederationConfig } from "../../core/schemas/federation.ts";
import { Preprocessing } from "../../core/schemas/preprocessing.ts";
import { federationConfig, FlakyStore, Harness, siteTables, T0, testDeps, type Reply, type TestSite } from "../../test/support/coordinator.ts";
import { keys } from "../keys.ts";
import { readJson } from "../repo.ts";

const columns = ["age", "sex", "outcome"];
/** Rows whose age is always missing: no site of a consortium made of these has one age value. */
/** A site with neither feature's values: with only such sites no feature reaches the quorum. */
const noValues: Table = { columns, rows: [["", "", "1"], ["NA", "?", "0"]] };
const MERGE_FAILED = "site statistics cannot be merged: no feature is provided by the quorum of 50% of the sites (age 0/2, sex 0/2)";

/** Posts the site's statistics without asking for a task first (a runner retrying its post). */
function repost(h: Harness, site: TestSite): Promise<Reply> {
  return h.request("POST", "/v1/stats", { token: site.token, json: computeSiteStats(site.table, FederationConfig.parse(federationConfig()).features) });
}

describe("submitStats: leaving the stats phase", () => {
  it("answers STATS_MERGE_FAILED (409) to every post while the statistics cannot be merged, and shows it in status", async () => {
    // Prepare
    const h = new Harness();
    await h.createFederation({ expectedSites: 2 });
    const sites = [await h.enrol("St Mary's", noValues), await h.enrol("Royal Infirmary", noValues)];
    await h.postStats(sites[0]!);
    // Execute
    const last = await h.postStats(sites[1]!);
    const retry = await repost(h, sites[1]!);
    const task = await h.task(sites[0]!);
    const status = await h.status();
    // Assert
    const error = { status: 409, body: { error: { code: "STATS_MERGE_FAILED", message: MERGE_FAILED } } };
    expect(last).toEqual(error);
    expect(retry).toEqual(error);
    expect(task).toEqual({ kind: "wait", retryAfterMs: 1000, reason: `STATS_MERGE_FAILED: ${MERGE_FAILED}` });
    expect(status.state.phase).toBe("stats");
    expect(status.blocked).toEqual({ at: T0, siteId: null, round: null, code: "STATS_MERGE_FAILED", message: MERGE_FAILED });
    expect(status.rejections.map((r) => [r.code, r.siteId])).toEqual([
      ["STATS_MERGE_FAILED", sites[1]!.siteId],
      ["STATS_MERGE_FAILED", sites[1]!.siteId],
    ]);
    expect(h.deps.logger.entries.filter((e) => e.level === "error").map((e) => e.message)).toEqual(["site statistics cannot be merged"]);
  });

  it("blocks the phase with the reason when the model does not take the inputs the merge makes, keeping no preprocessing", async () => {
    // Prepare: a model read from a model.json of 5 inputs, where age and sex=M make 2.
    const h = new Harness();
    await h.createFederation({ model: { kind: "mlp", hidden: [3], inputs: 5 } });
    const sites = [await h.enrol("St Mary's", siteTables[0]!), await h.enrol("Royal Infirmary", siteTables[1]!), await h.enrol("General Hospital", siteTables[2]!)];
    for (const site of sites.slice(0, 2)) await h.postStats(site);
    // Execute
    const last = await h.postStats(sites[2]!);
    const task = await h.task(sites[0]!);
    const status = await h.status();
    // Assert
    const reason = "site statistics cannot be merged: the model takes 5 inputs, the features make 2";
    expect(last).toEqual({ status: 409, body: { error: { code: "STATS_MERGE_FAILED", message: reason } } });
    expect(task).toEqual({ kind: "wait", retryAfterMs: 1000, reason: `STATS_MERGE_FAILED: ${reason}` });
    expect(status.blocked).toMatchObject({ code: "STATS_MERGE_FAILED", message: reason });
    expect(await h.deps.store.head(keys.preprocessing)).toBeNull();
  });

  it("leaves a blocked stats phase once a further site's statistics make the merge possible", async () => {
    // Prepare
    const h = new Harness();
    // Quorum 0: a feature one site of three provides is used.
    await h.createFederation({ expectedSites: 2, features: { ...federationConfig().features, quorum: 0 } });
    const blocked = [await h.enrol("St Mary's", noValues), await h.enrol("Royal Infirmary", noValues)];
    for (const site of blocked) await h.postStats(site);
    const extra = await h.enrol("General Hospital", siteTables[0]!);
    h.deps.clock.advance(1_000);
    // Execute
    const res = await h.postStats(extra);
    const status = await h.status();
    // Assert
    expect(res).toEqual({ status: 202, body: { complete: true } });
    expect(status.state).toEqual({ phase: "training", round: 1, modelVersion: 0, updatedAt: T0 + 1_000 });
    expect(status.blocked).toBeNull();
    expect(await h.deps.store.head(keys.statsFailure)).toBeNull();
    expect((await h.task(blocked[0]!)).kind).toBe("train");
  });

  it("finishes the transition when the last site re-posts the same statistics after a crash before model 0", async () => {
    // Prepare
    const store = new FlakyStore();
    const h = new Harness(testDeps({ store }));
    const sites = await h.enrolSites();
    for (const site of sites.slice(0, 2)) await h.postStats(site);
    store.failNextPut((key) => key === keys.modelWeights(0));
    const crashed = await h.postStats(sites[2]!);
    const prep = await readJson(h.deps.store, keys.preprocessing, Preprocessing);
    // Execute
    const retry = await repost(h, sites[2]!);
    // Assert
    expect(crashed).toEqual({ status: 500, body: { error: { code: "INTERNAL", message: "internal error" } } });
    expect(prep?.inputs).toEqual(["age", "sex=M"]);
    expect(retry).toEqual({ status: 202, body: { complete: true } });
    expect(await readJson(h.deps.store, keys.preprocessing, Preprocessing)).toEqual(prep);
    expect((await h.status()).state).toEqual({ phase: "training", round: 1, modelVersion: 0, updatedAt: T0 });
    expect(await h.task(sites[0]!)).toMatchObject({ kind: "train", round: 1, model: { version: 0 } });
  });

  it("finishes the transition on a site's task poll after a crash before model 0", async () => {
    // Prepare
    const store = new FlakyStore();
    const h = new Harness(testDeps({ store }));
    const sites = await h.enrolSites();
    store.failNextPut((key) => key === keys.modelManifest(0));
    for (const site of sites) await h.postStats(site);
    const phaseAfterCrash = (await h.status()).state.phase;
    // Execute
    const task = await h.task(sites[0]!);
    // Assert
    expect(phaseAfterCrash).toBe("stats");
    expect(task).toMatchObject({ kind: "train", round: 1, model: { version: 0 } });
    expect((await h.status()).state).toMatchObject({ phase: "training", round: 1, modelVersion: 0 });
  });

  it("still refuses different statistics from a site that already reported with DUPLICATE_STATS", async () => {
    // Prepare
    const h = new Harness();
    await h.createFederation();
    const site = await h.enrol("St Mary's", siteTables[0]!);
    await h.postStats(site);
    // Execute
    const res = await repost(h, { ...site, table: siteTables[1]! });
    // Assert
    expect(res).toEqual({ status: 409, body: { error: { code: "DUPLICATE_STATS", message: `site ${site.siteId} already reported statistics` } } });
  });
});
