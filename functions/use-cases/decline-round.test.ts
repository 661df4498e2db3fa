import { describe, expect, it } from "vitest";
import { Abandoned } from "../../core/schemas/consortium.ts";
import { FederationState } from "../../core/schemas/federation.ts";
import { AuditRecord, ModelManifest } from "../../core/schemas/round.ts";
import { keys } from "../keys.ts";
import { readJson, writeJson } from "../repo.ts";
import { delta, expectClose, fedAvgExpected, Harness, type TestSite } from "../../test/support/coordinator.ts";

const policy = { level: "sample", epsilon: 2, delta: 1e-5, clip: 1 } as const;
const spent = (epsilon: number) => ({ level: "sample" as const, epsilon, delta: 1e-5, budget: 2, noiseMultiplier: 1.3 });

function decline(h: Harness, site: TestSite, round: number, body: unknown = { round, code: "PRIVACY_BUDGET_EXHAUSTED", message: "would exceed ε 2", privacy: spent(1.9) }) {
  return h.request("POST", `/v1/rounds/${round}/declines`, { token: site.token, json: body });
}

describe("a site that declines a round for its privacy budget", () => {
  it("is recorded, and the round closes once every other site has sent its update", async () => {
    // Prepare: three sites, quorum = all three.
    const h = new Harness();
    const [a, b, c] = (await h.startTraining({ privacy: policy })) as [TestSite, TestSite, TestSite];
    const task = await h.task(a);
    expect(task.kind === "train" && task.privacy).toEqual(policy);
    // Execute
    expect((await decline(h, c, 1)).status).toBe(202);
    expect((await h.postUpdate(a, 1, { ...(await h.upload(a, 1, delta(1), 1)), privacy: spent(0.4) })).status).toBe(202);
    expect(h.deps.queue.drain()).toEqual([]);
    expect((await h.postUpdate(b, 1, { ...(await h.upload(b, 1, delta(2), 1)), privacy: spent(0.5) })).status).toBe(202);
    const outcomes = await h.runJobs();
    // Assert
    expect(outcomes).toEqual(["aggregated"]);
    expect((await h.round(1))?.included).toEqual([a.siteId, b.siteId].sort());
    expect(await h.task(c)).toMatchObject({ kind: "train", round: 2 });
    const status = await h.status();
    expect(status.rejections.map((r) => [r.siteId, r.round, r.code])).toEqual([[c.siteId, 1, "PRIVACY_BUDGET_EXHAUSTED"]]);
    expect(status.privacy).toEqual([
      { siteId: a.siteId, ...spent(0.4), refusedRounds: [] },
      { siteId: b.siteId, ...spent(0.5), refusedRounds: [] },
      { siteId: c.siteId, ...spent(1.9), refusedRounds: [1] },
    ].sort((x, y) => (x.siteId < y.siteId ? -1 : 1)));
    const audit = await readJson(h.deps.store, keys.audit("round-000001"), AuditRecord);
    expect(audit?.privacy).toEqual({
      spent: [{ siteId: a.siteId, ...spent(0.4) }, { siteId: b.siteId, ...spent(0.5) }].sort((x, y) => (x.siteId < y.siteId ? -1 : 1)),
      declined: [c.siteId],
    });
  });

  it("waits instead of training the round it declined, and a repeated refusal changes nothing", async () => {
    const h = new Harness();
    const [a] = (await h.startTraining({ privacy: policy })) as [TestSite];
    await decline(h, a, 1);
    expect(await h.task(a)).toMatchObject({ kind: "wait", reason: "round 1 declined (privacy budget)" });
    expect((await decline(h, a, 1)).status).toBe(202);
    expect((await h.status()).rejections).toHaveLength(1);
  });

  it("is refused without a privacy policy, for another round, after its update, or malformed", async () => {
    const plain = new Harness();
    const [p] = (await plain.startTraining()) as [TestSite];
    expect(await decline(plain, p, 1)).toMatchObject({ status: 422, body: { error: { code: "NO_PRIVACY_POLICY" } } });

    const h = new Harness();
    const [a, b] = (await h.startTraining({ privacy: policy })) as [TestSite, TestSite];
    expect(await decline(h, a, 2)).toMatchObject({ status: 409, body: { error: { code: "ROUND_CLOSED" } } });
    await h.submit(b, 1, delta(1), 1);
    expect(await decline(h, b, 1)).toMatchObject({ status: 409, body: { error: { code: "DUPLICATE_UPDATE" } } });
    expect((await decline(h, a, 1, { round: 1, code: "TIRED", message: "x", privacy: spent(1) })).status).toBe(400);
  });

  it("cannot then send an update to the round it declined, which would count it twice", async () => {
    const h = new Harness();
    const [a, b, c] = (await h.startTraining({ privacy: policy })) as [TestSite, TestSite, TestSite];
    await decline(h, c, 1);
    const late = await h.postUpdate(c, 1, await h.upload(c, 1, delta(3), 1));
    expect(late).toMatchObject({ status: 409, body: { error: { code: "ROUND_DECLINED" } } });
    // a alone does not close the round: b has neither sent nor declined.
    await h.submit(a, 1, delta(1), 1);
    expect(h.deps.queue.drain()).toEqual([]);
    await h.submit(b, 1, delta(2), 1);
    expect(await h.runJobs()).toEqual(["aggregated"]);
  });

  it("declined by every site in the run's first round: the run stops at once, abandoned with the reason, instead of waiting for deadlines", async () => {
    const h = new Harness();
    const sites = (await h.startTraining({ privacy: policy, rounds: 5 })) as TestSite[];
    for (const site of sites.slice(0, -1)) await decline(h, site, 1);
    expect((await h.round(1))?.status).toBe("open");
    expect((await decline(h, sites.at(-1)!, 1)).status).toBe(202);
    expect(h.deps.queue.drain()).toEqual([]);
    expect(await h.round(1)).toMatchObject({ status: "skipped", reason: expect.stringContaining("every site taking part declined round 1") });
    expect((await readJson(h.deps.store, keys.state, FederationState))?.phase).toBe("done");
    expect((await readJson(h.deps.store, keys.abandoned, Abandoned))?.reason).toMatch(/^nothing trained: every site taking part declined round 1/);
    expect(await h.round(2)).toBeNull();
    expect((await h.task(sites[0]!)).kind).toBe("done");
  });

  it("declined by every site after a round aggregated: training stops with that round's model, which is evaluated", async () => {
    const h = new Harness();
    const sites = (await h.startTraining({ privacy: policy, rounds: 5 })) as TestSite[];
    for (const [i, site] of sites.entries()) await h.submit(site, 1, delta(i + 1), 1);
    expect(await h.runJobs()).toEqual(["aggregated"]);
    for (const site of sites) await decline(h, site, 2);
    expect(await h.round(2)).toMatchObject({ status: "skipped", included: [] });
    expect(await readJson(h.deps.store, keys.state, FederationState)).toMatchObject({ phase: "evaluating", modelVersion: 1 });
    expect(await readJson(h.deps.store, keys.abandoned, Abandoned)).toBeNull();
    expect(await h.task(sites[0]!)).toMatchObject({ kind: "evaluate", model: { version: 1 } });
  });

  it("a stop cut short after its round was marked is finished by the tick, which does not open the next round", async () => {
    const h = new Harness();
    const sites = (await h.startTraining({ privacy: policy, rounds: 5 })) as TestSite[];
    for (const [i, site] of sites.entries()) await h.submit(site, 1, delta(i + 1), 1);
    await h.runJobs();
    // As if the coordinator died right after marking round 2: skipped for every site's refusal, the state still training.
    const round = (await h.round(2))!;
    await writeJson(h.deps.store, keys.round(2), { ...round, status: "skipped", stop: "declined", included: [], reason: "every site taking part declined round 2 (privacy budgets)" });
    h.root.clock.advance(601_000);
    await h.admin("POST", "/v1/admin/rounds/close-expired");
    expect(await h.round(3)).toBeNull();
    expect(await readJson(h.deps.store, keys.state, FederationState)).toMatchObject({ phase: "evaluating", modelVersion: 1 });
  });

  it("cannot be client-level under SCAFFOLD, whose control deltas would leave the site without noise", async () => {
    const h = new Harness();
    await expect(h.startTraining({ privacy: { ...policy, level: "client" }, strategy: "scaffold" })).rejects.toThrow(/client-level privacy cannot be used with scaffold/);
  });
});

describe("client-level privacy at the coordinator", () => {
  it("weighs every site's update equally, whatever its row count, as the noise calibration assumes", async () => {
    const h = new Harness();
    const sites = (await h.startTraining({ privacy: { ...policy, level: "client" }, strategy: "fedavg" })) as TestSite[];
    const model0 = await h.model(0);
    for (const [i, site] of sites.entries()) await h.submit(site, 1, delta(i + 1), i + 1);
    await h.runJobs();
    const equal = fedAvgExpected(model0, sites.map((_, i) => ({ delta: delta(i + 1), samples: 1 })));
    expectClose(await h.model(1), equal);
    // The model still says how many training rows stand behind it.
    expect((await readJson(h.deps.store, keys.modelManifest(1), ModelManifest))?.samples).toBe(6);
  });
});
