/**
 * Inputs found to break the coordinator when it was attacked, each reproduced here: after every
 * one the coordinator answers 4xx and stays readable.
 */
import { describe, expect, it } from "vitest";
import { computeSiteStats } from "../core/preprocess/site-stats.ts";
import type { SiteStats } from "../core/schemas/site-stats.ts";
import { ADMIN_TOKEN, delta, ErrorBody, Harness, type TestSite, testDeps, T0 } from "../test/support/coordinator.ts";
import { extremeCounts } from "../test/support/fuzz-requests.ts";
import { withWriteOnceCache } from "./adapters/write-once-cache.ts";
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

/** Bytes held under `prefix`, and whether any object there holds `text`. */
function stored(h: Harness, prefix: string, text: string): { bytes: number; holds: boolean } {
  let bytes = 0;
  let holds = false;
  for (const [key, body] of h.root.store.objects) {
    if (!key.startsWith(prefix)) continue;
    bytes += key.length + body.length;
    holds ||= Buffer.from(body).toString("utf8").includes(text);
  }
  return { bytes, holds };
}

describe("requests that fail authentication", () => {
  it("600 with 8 KB paths are counted per minute and reason, never stored one by one, and status stays small", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const long = "x".repeat(8 * 1024);
    const before = stored(h, "", long).bytes;
    // Execute: six minutes of requests, half without a token, half with a made-up credential.
    for (let i = 0; i < 600; i++) {
      if (i % 100 === 0) h.deps.clock.advance(60_000);
      const res = await h.request("POST", `/v1/rounds/${long}${i}/updates`, i % 2 === 0 ? {} : { token: `cs_ghost-${i}_c2VjcmV0` });
      expect(res.status).toBe(401);
    }
    const res = await h.request("GET", "/v1/admin/status", { token: ADMIN_TOKEN });
    // Assert
    const after = stored(h, "", long);
    expect(after.holds).toBe(false);
    expect(after.bytes - before).toBeLessThan(16 * 1024);
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body).length).toBeLessThan(64 * 1024);
    const status = await h.status();
    const counted = new Map<string, number>();
    for (const f of status.failures ?? []) counted.set(f.code, (counted.get(f.code) ?? 0) + f.count);
    expect(Object.fromEntries(counted)).toEqual({ UNAUTHENTICATED: 300, BAD_CREDENTIAL: 300 });
    expect(new Set(status.failures?.map((f) => f.minute)).size).toBe(6);
    expect(status.rejections).toEqual([]);
    expect(await h.finishRound(sites, 1)).toEqual(["aggregated"]);
  });

  it("counted for the last hour only in status", async () => {
    // Prepare
    const h = new Harness();
    await h.startTraining();
    await h.request("GET", "/v1/task");
    h.deps.clock.advance(61 * 60_000);
    await h.request("GET", "/v1/task", { token: "not-a-credential" });
    // Execute
    const status = await h.status();
    // Assert
    expect(status.failures?.map((f) => [f.code, f.count])).toEqual([["UNAUTHENTICATED", 1]]);
  });
});

describe("an enrolled site's refused requests", () => {
  it("are each recorded with a bounded message, and status lists the newest 200 with the total", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const site = sites[0]!;
    const long = "9".repeat(8 * 1024);
    // Execute
    for (let i = 0; i < 600; i++) {
      h.deps.clock.advance(1);
      const res = await h.request("POST", `/v1/rounds/${long}/updates`, { token: site.token, json: {} });
      expect(res.status).toBe(400);
    }
    const res = await h.request("GET", "/v1/admin/status", { token: ADMIN_TOKEN });
    // Assert
    const records = await h.rejections();
    expect(records).toHaveLength(600);
    expect(records.every((r) => r.siteId === site.siteId && r.code === "INVALID_PARAM" && r.message.length <= 1000)).toBe(true);
    expect(stored(h, "rejections/", long).holds).toBe(false);
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body).length).toBeLessThan(256 * 1024);
    const status = await h.status();
    const times = records.map((r) => r.at).sort((a, b) => a - b);
    expect(status.rejectionsTotal).toBe(600);
    expect(status.rejections.map((r) => r.at)).toEqual(times.slice(-200));
    expect(await h.finishRound(sites, 1)).toEqual(["aggregated"]);
  });

  it("are paged through with rejectionsSkip, newest first", async () => {
    // Prepare
    const h = new Harness();
    const [site] = await h.startTraining();
    for (let i = 0; i < 450; i++) {
      h.deps.clock.advance(1);
      await h.request("GET", "/v1/models/x", { token: site!.token });
    }
    const page = async (skip: string) => (await h.request("GET", `/v1/admin/status?rejectionsSkip=${skip}`, { token: ADMIN_TOKEN })).body as { rejections: { at: number }[] };
    const times = (await h.rejections()).map((r) => r.at).sort((a, b) => a - b);
    // Execute
    const [second, last, beyond] = [await page("200"), await page("400"), await page("450")];
    const bad = await h.request("GET", "/v1/admin/status?rejectionsSkip=-1", { token: ADMIN_TOKEN });
    // Assert
    expect(second.rejections.map((r) => r.at)).toEqual(times.slice(50, 250));
    expect(last.rejections.map((r) => r.at)).toEqual(times.slice(0, 50));
    expect(beyond.rejections).toEqual([]);
    expect([bad.status, ErrorBody.parse(bad.body).error.code]).toEqual([400, "INVALID_PARAM"]);
  });

  it("refuse a perSite that is not true or false, and the status answers as before after it", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    await h.finishRound(sites, 1);
    // Execute
    const answers = await Promise.all(["yes", "1", "", "TRUE"].map((v) => h.request("GET", `/v1/admin/status?perSite=${v}`, { token: ADMIN_TOKEN })));
    const asked = await h.request("GET", "/v1/admin/status?perSite=true", { token: ADMIN_TOKEN });
    // Assert
    for (const a of answers) expect([a.status, ErrorBody.parse(a.body).error.message]).toEqual([400, "perSite must be true or false"]);
    expect(asked.status).toBe(200);
    expect((asked.body as { roundLog: { sites?: unknown[] }[] }).roundLog[0]!.sites).toHaveLength(sites.length);
  });
});

describe("statistics with a __proto__ key", () => {
  it("are refused with INVALID_BODY, naming the key, rather than taken with the key silently dropped", async () => {
    // Prepare: the raw JSON text, since JSON.stringify of an object literal would not carry the key.
    const h = new Harness();
    const [a] = await h.enrolSites();
    const task = await h.task(a!);
    if (task.kind !== "stats") throw new Error(`expected a stats task, got ${task.kind}`);
    const stats = computeSiteStats(a!.table, task.features);
    const body = (features: string) => JSON.stringify(stats).replace('"features":{', `"features":{${features},`);
    const sex = JSON.stringify(stats.features.sex);
    // Execute
    const feature = await h.request("POST", "/v1/stats", { token: a!.token, raw: body(`"__proto__":${sex}`), headers: { "content-type": "application/json" } });
    const level = await h.request("POST", "/v1/stats", { token: a!.token, raw: body(`"extra":{"kind":"categorical","counts":{"__proto__":3},"missing":0}`), headers: { "content-type": "application/json" } });
    // Assert
    expect([feature.status, ErrorBody.parse(feature.body).error]).toEqual([400, { code: "INVALID_BODY", message: 'invalid request body: features.__proto__: "__proto__" is a reserved key' }]);
    expect([level.status, ErrorBody.parse(level.body).error]).toEqual([400, { code: "INVALID_BODY", message: 'invalid request body: features.extra.counts.__proto__: "__proto__" is a reserved key' }]);
    expect((await h.postStats(a!)).status).toBe(202);
  });
});

describe("counts each within the safe integers whose sum over the sites is not", () => {
  const HALF = 2 ** 52 - 1;

  it("are refused in update manifests (base-model counts, bytes down, samples), so that status and the model manifest stay readable", async () => {
    // Prepare: a site enrolled after the statistics phase reported no rows, so nothing else caps its samples.
    const h = new Harness();
    const sites = await h.startTraining();
    const late = await h.enrol("Late Hospital", sites[0]!.table);
    const post = async (site: TestSite, extra: object) => h.postUpdate(site, 1, { ...(await h.upload(site, 1, delta(1), 3)), ...extra });
    // Execute
    const answers = [
      await post(sites[0]!, { baseMetrics: extremeCounts(HALF) }),
      await post(sites[1]!, { bytesDown: 2 ** 53 - 1 }),
      await post(late, { samples: 2 ** 53 - 1 }),
    ];
    // Assert
    expect(answers.map((a) => [a.status, ErrorBody.parse(a.body).error.code])).toEqual([[400, "INVALID_BODY"], [400, "INVALID_BODY"], [400, "INVALID_BODY"]]);
    expect(await h.finishRound(sites, 1)).toEqual(["aggregated"]);
    expect((await h.status()).roundLog[0]?.baseModel).toBeNull();
  });

  it("are refused in evaluations and statistics", async () => {
    // Prepare
    const h = new Harness();
    const [a] = await h.enrolSites();
    const huge = extremeCounts(HALF);
    // Consistent statistics of 2^53 − 1 rows: two such sites would merge to rows beyond the safe integers.
    const rows = 2 ** 53 - 1;
    const features = { age: { kind: "numeric", count: rows, mean: 50, m2: 0, missing: 0 }, sex: { kind: "categorical", counts: { M: rows }, missing: 0 } };
    // Execute
    const evaluation = await h.request("POST", "/v1/evaluations", { token: a!.token, json: { modelVersion: 0, trainRows: 3, testRows: huge.n, global: huge, personalized: huge, local: huge } });
    const statistics = await h.request("POST", "/v1/stats", { token: a!.token, json: { rows, positives: 0, features } });
    // Assert
    expect([evaluation.status, ErrorBody.parse(evaluation.body).error.code]).toEqual([400, "INVALID_BODY"]);
    expect([statistics.status, ErrorBody.parse(statistics.body).error.code]).toEqual([400, "INVALID_BODY"]);
  });
});

describe("pooled metrics that rounding would put outside their range", () => {
  it("stay in range and leave the status readable", async () => {
    // Prepare: three evaluations, each within the per-site bound, whose pooled AUROC would compute to 1 + 2^-52.
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 1 });
    await h.finishRound(sites, 1);
    const [p, q] = [[19424271360, 34759716864, 42866947584], [9942461952, 41686674432, 3611553792]];
    const counts = () => {
      const pos = new Array<number>(1000).fill(0);
      const neg = new Array<number>(1000).fill(0);
      p.forEach((x, i) => (pos[997 + i] = x / 3));
      q.forEach((x, i) => (neg[i] = x / 3));
      const tp = pos.reduce((a, b) => a + b);
      const tn = neg.reduce((a, b) => a + b);
      return { n: tp + tn, tp, fp: 0, tn, fn: 0, pos, neg };
    };
    // Execute
    for (const site of sites) {
      const c = counts();
      const res = await h.request("POST", "/v1/evaluations", { token: site.token, json: { modelVersion: 1, trainRows: 3, testRows: c.n, global: c, personalized: c, local: c } });
      expect(res.status).toBe(202);
    }
    const status = await h.status();
    // Assert
    expect(status.state.phase).toBe("done");
    expect(status.final?.global.auroc).toBe(1);
    expect(h.deps.logger.entries.filter((e) => e.message === "pooled metrics outside their range passed over")).toEqual([]);
  });
});

describe("a revoked site credential", () => {
  it("is refused at once, on a coordinator that caches site records, and the other sites go on", async () => {
    // Prepare: the store behind the write-once cache a warm process keeps.
    const deps = testDeps();
    const h = new Harness({ ...deps, store: withWriteOnceCache(deps.store) as typeof deps.store });
    const sites = await h.startTraining();
    const [revoked, ...others] = sites as [TestSite, ...TestSite[]];
    expect((await h.request("GET", "/v1/task", { token: revoked.token })).status).toBe(200);
    // Execute
    const answer = await h.admin("POST", `/v1/admin/sites/${revoked.siteId}/revoke`);
    const again = await h.admin("POST", `/v1/admin/sites/${revoked.siteId}/revoke`);
    const unknown = await h.admin("POST", "/v1/admin/sites/nobody-here/revoke");
    const refused = await h.request("GET", "/v1/task", { token: revoked.token });
    // Assert
    expect(answer).toEqual({ status: 200, body: { siteId: revoked.siteId, revokedAt: T0 } });
    expect(again.body).toEqual(answer.body);
    expect([unknown.status, ErrorBody.parse(unknown.body).error.code]).toEqual([404, "NO_SITE"]);
    expect([refused.status, ErrorBody.parse(refused.body).error.code]).toEqual([401, "CREDENTIAL_REVOKED"]);
    for (const site of others) expect((await h.task(site)).kind).toBe("train");
  });
});
