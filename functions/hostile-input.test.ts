/**
 * Inputs found to break the coordinator when it was attacked, each reproduced here: after every
 * one the coordinator answers 4xx and stays readable.
 */
import { describe, expect, it } from "vitest";
import { computeSiteStats } from "../core/preprocess/site-stats.ts";
import type { SiteStats } from "../core/schemas/site-stats.ts";
import { ADMIN_TOKEN, ErrorBody, Harness, type TestSite } from "../test/support/coordinator.ts";
import { keys } from "./keys.ts";

describe("hostile inputs leave the federation readable", () => {
  it("a round number beyond the safe integers, with or without a token, is refused and breaks no later status", async () => {
    // Prepare
    const h = new Harness();
    const [site] = await h.startTraining();
    // Execute
    const outsider = await h.request("POST", "/v1/rounds/1e21/updates");
    const enrolled = await h.request("POST", "/v1/rounds/1e21/updates", { token: site!.token, json: {} });
    const unsafe = await h.request("POST", `/v1/rounds/${2 ** 53 + 1}/declines`, { token: site!.token, json: {} });
    const status = await h.request("GET", "/v1/admin/status", { token: ADMIN_TOKEN });
    // Assert
    expect(outsider.status).toBe(401);
    expect([enrolled.status, ErrorBody.parse(enrolled.body).error.code]).toEqual([400, "INVALID_PARAM"]);
    expect([unsafe.status, ErrorBody.parse(unsafe.body).error.code]).toEqual([400, "INVALID_PARAM"]);
    expect(status.status).toBe(200);
  });
});

describe("an unreadable record in the rejection log", () => {
  it("is passed over and reported, and status still answers", async () => {
    // Prepare
    const h = new Harness();
    await h.startTraining();
    await h.deps.store.put("rejections/000000000000001-bad.json", JSON.stringify({ at: 1, siteId: null, round: 1e21, code: "X", message: "m" }));
    await h.deps.store.put("rejections/000000000000002-bad.json", "not json");
    // Execute
    const status = await h.request("GET", "/v1/admin/status", { token: ADMIN_TOKEN });
    // Assert
    expect(status.status).toBe(200);
    expect(h.deps.logger.entries.filter((e) => e.message === "unreadable rejection record passed over").map((e) => e.fields?.key)).toEqual([
      "rejections/000000000000001-bad.json",
      "rejections/000000000000002-bad.json",
    ]);
  });
});

/** A site's real statistics with every numeric feature's moments replaced. */
async function hugeStats(h: Harness, site: TestSite, moments: { mean: number; m2: number }): Promise<SiteStats> {
  const task = await h.task(site);
  if (task.kind !== "stats") throw new Error(`expected a stats task, got ${task.kind}`);
  const stats = computeSiteStats(site.table, task.features);
  const features = Object.fromEntries(Object.entries(stats.features).map(([name, f]) => [name, f.kind === "numeric" ? { ...f, ...moments } : f]));
  return { ...stats, features };
}

describe("statistics whose moments are finite but huge", () => {
  it("are refused at the door, and the honest sites' federation goes on", async () => {
    // Prepare
    const h = new Harness();
    const [a, b, c] = await h.enrolSites();
    // Execute
    const huge = await h.request("POST", "/v1/stats", { token: a!.token, json: await hugeStats(h, a!, { mean: 1e307, m2: 1e308 }) });
    for (const site of [a!, b!, c!]) expect((await h.postStats(site)).status).toBe(202);
    // Assert
    expect([huge.status, ErrorBody.parse(huge.body).error.code]).toEqual([422, "BAD_STATS"]);
    expect((await h.task(b!)).kind).toBe("train");
    expect((await h.request("GET", "/v1/admin/status", { token: ADMIN_TOKEN })).status).toBe(200);
  });

  it("that reach the merge anyway block the statistics phase with the reason, and leave nothing unreadable behind", async () => {
    // Prepare: one site's statistics written straight to the store, past the door's checks.
    const h = new Harness();
    const [a, b, c] = await h.enrolSites();
    await h.deps.store.put(keys.stats(a!.siteId), JSON.stringify(await hugeStats(h, a!, { mean: 1e200, m2: 1e300 })));
    // Execute
    const posts = [await h.postStats(b!), await h.postStats(c!)];
    const task = await h.task(b!);
    const status = await h.request("GET", "/v1/admin/status", { token: ADMIN_TOKEN });
    // Assert
    expect(posts[0]!.status).toBe(202);
    expect([posts[1]!.status, ErrorBody.parse(posts[1]!.body).error]).toEqual([409, { code: "STATS_MERGE_FAILED", message: expect.stringMatching(/not finite at preprocessing\./) }]);
    expect(task.kind).toBe("wait");
    expect(await h.deps.store.get(keys.preprocessing)).toBeNull();
    expect(status.status).toBe(200);
    expect(JSON.stringify(status.body)).toMatch(/STATS_MERGE_FAILED.*not finite/);
  });
});
