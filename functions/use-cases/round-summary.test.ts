import { describe, expect, it } from "vitest";
import { aurocFromHistogram, countPredictions, type EvalCounts } from "../../core/metrics/index.ts";
import { RoundSummary } from "../../core/schemas/round-summary.ts";
import type { FederationStatus } from "../../core/schemas/status.ts";
import { handleJobMessage } from "../jobs.ts";
import { keys } from "../keys.ts";
import type { ObjectStore } from "../ports.ts";
import { StoredUpdate } from "../../core/schemas/round.ts";
import { readJson, writeJson } from "../repo.ts";
import { delta, FlakyStore, Harness, testDeps, type TestSite } from "../../test/support/coordinator.ts";
import { closeRunRounds } from "./close-expired-rounds.ts";
import { readStatus } from "./read-status.ts";

const ROUNDS = 3;
/** Site i's base-model counts in round r: scores that separate the classes better round after round. */
function counts(i: number, r: number): EvalCounts {
  const labels = new Uint8Array(40).map((_, k) => (k % 3 === 0 ? 1 : 0));
  const scores = Float64Array.from(labels, (y, k) => Math.min(0.999, Math.max(0, (y ? 0.5 : 0.45) + (y ? 1 : -1) * 0.08 * r + ((k * 37 + i * 11) % 17) / 40 - 0.2)));
  return countPredictions(scores, labels);
}
const loss = (i: number, r: number) => 0.7 / r + 0.03 * i;

async function send(h: Harness, site: TestSite, i: number, r: number) {
  const manifest = await h.upload(site, r, delta(i + 1), site.table.rows.length);
  const res = await h.postUpdate(site, r, { ...manifest, baseMetrics: counts(i, r), trainLoss: loss(i, r) });
  expect(res.status).toBe(202);
}

/** Three hospitals, `rounds` rounds, every manifest with the base model's counts and a training loss. */
async function federation(rounds = ROUNDS, options: Parameters<Harness["startTraining"]>[0] = {}): Promise<{ h: Harness; sites: TestSite[] }> {
  const h = new Harness();
  const sites = await h.startTraining({ rounds, ...options });
  for (let r = 1; r <= rounds; r++) {
    for (const [i, site] of sites.entries()) await send(h, site, i, r);
    await h.runJobs();
  }
  return { h, sites };
}

/** The store, counting what is listed under `rounds/` and which update manifests are read. */
function counting(store: ObjectStore): { store: ObjectStore; roundListings: () => number; manifestsRead: () => number } {
  let listings = 0;
  let reads = 0;
  return {
    store: new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === "get") return (key: string) => {
          if (key.includes("/updates/") && key.endsWith(".json")) reads++;
          return target.get(key);
        };
        if (prop === "list") return (prefix: string) => {
          if (prefix.startsWith("rounds/")) listings++;
          return target.list(prefix);
        };
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    }),
    roundListings: () => listings,
    manifestsRead: () => reads,
  };
}

async function withoutSummaries(h: Harness): Promise<FederationStatus> {
  for (const k of await h.deps.store.list(keys.summariesPrefix)) await h.deps.store.delete(k);
  return readStatus(h.deps, { perSite: true });
}

describe("round summaries", () => {
  it("are written as rounds close, and the status read from them, listing no round's keys, is the status read from every round's keys", async () => {
    // Prepare
    const { h, sites } = await federation();
    expect(await h.deps.store.list(keys.summariesPrefix)).toEqual([1, 2, 3].map((r) => keys.roundSummary(r)));
    const reads = counting(h.deps.store);
    // Execute
    const summarised = await readStatus({ ...h.deps, store: reads.store }, { perSite: true });
    const fromKeys = await withoutSummaries(h);
    // Assert
    expect(reads.roundListings()).toBe(0);
    expect(reads.manifestsRead()).toBe(0);
    expect(summarised).toEqual(fromKeys);
    expect(summarised.roundLog.map((r) => r.status)).toEqual(["closed", "closed", "closed"]);
    for (const r of summarised.roundLog) {
      const rows = sites.map((s) => s.table.rows.length);
      const expected = rows.reduce((n, w, i) => n + w * loss(i, r.round), 0) / rows.reduce((a, b) => a + b, 0);
      expect(r.trainLoss).toBeCloseTo(expected, 12);
      expect(r.baseModel?.n).toBe(sites.length * 40);
      expect(r.sites?.map((s) => s.siteId)).toEqual(sites.map((s) => s.siteId).sort());
      for (const s of r.sites!) {
        const i = sites.findIndex((x) => x.siteId === s.siteId);
        expect(s.auroc).toBe(aurocFromHistogram(counts(i, r.round).pos, counts(i, r.round).neg));
        expect(s.trainLoss).toBe(loss(i, r.round));
      }
    }
    // The base model improves round after round at every site (the counts were made so): the curves say so.
    const first = summarised.roundLog[0]!.sites!;
    const last = summarised.roundLog[ROUNDS - 1]!.sites!;
    for (const [k, s] of last.entries()) expect(s.auroc!).toBeGreaterThan(first[k]!.auroc!);
  });

  it("reads the open round from its own keys, and writes no summary of it", async () => {
    // Prepare: round 2 of 3 has two of its three updates.
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 3 });
    for (const [i, site] of sites.entries()) await send(h, site, i, 1);
    await h.runJobs();
    for (const [i, site] of sites.slice(0, 2).entries()) await send(h, site, i, 2);
    const reads = counting(h.deps.store);
    // Execute
    const status = await readStatus({ ...h.deps, store: reads.store });
    // Assert
    expect(await h.deps.store.list(keys.summariesPrefix)).toEqual([keys.roundSummary(1)]);
    expect(status.roundLog.map((r) => [r.round, r.status, r.updates])).toEqual([[1, "closed", 3], [2, "open", 2]]);
    expect(reads.roundListings()).toBe(1);
    expect(status.roundLog.every((r) => r.sites === undefined)).toBe(true);
  });

  it("is written by a job delivered again when a crash came between the close and the summary, and changes nothing else", async () => {
    // Prepare
    const { h } = await federation(1);
    await h.deps.store.delete(keys.roundSummary(1));
    const before = await readStatus(h.deps, { perSite: true });
    // Execute
    const outcome = await handleJobMessage(h.deps, JSON.stringify({ kind: "aggregate", federation: "test-fed", round: 1, run: 1 }));
    // Assert
    expect(outcome).toBe("already-done");
    const summary = await readJson(h.deps.store, keys.roundSummary(1), RoundSummary);
    expect(summary?.record.status).toBe("closed");
    expect(await readStatus(h.deps, { perSite: true })).toEqual(before);
  });

  it.each([
    ["not JSON", () => "{"],
    ["not a summary", () => JSON.stringify({ round: 1, updates: "all of them" })],
    ["another round's summary", (s: RoundSummary[]) => JSON.stringify(s[1])],
    ["the summary of a round still open", (s: RoundSummary[]) => JSON.stringify({ ...s[0], record: { ...s[0]!.record, status: "open" } })],
    ["a summary with a negative count", (s: RoundSummary[]) => JSON.stringify({ ...s[0], updates: s[0]!.updates.map((u) => ({ ...u, byteLength: -1 })) })],
  ])("reads the round from its own keys when its summary is %s, and says so", async (_, body) => {
    // Prepare
    const { h } = await federation();
    const stored = await Promise.all([1, 2].map(async (r) => (await readJson(h.deps.store, keys.roundSummary(r), RoundSummary))!));
    await h.deps.store.delete(keys.roundSummary(1));
    await h.deps.store.put(keys.roundSummary(1), body(stored));
    // Execute
    const status = await readStatus(h.deps, { perSite: true });
    // Assert
    expect(h.deps.logger.entries.some((e) => e.message.startsWith("round summary unreadable"))).toBe(true);
    expect(status).toEqual(await withoutSummaries(h));
  });

  it("counts no plain manifest left outside a closed round's set, from the summary or from the keys", async () => {
    // Prepare: a late update's manifest the API had not yet removed when the round closed (or never did: it crashed).
    const { h, sites } = await federation();
    const stored = (await readJson(h.deps.store, keys.updateManifest(2, sites[0]!.siteId), StoredUpdate))!;
    await writeJson(h.deps.store, keys.updateManifest(2, "late-site"), { ...stored, siteId: "late-site", trainLoss: 9 });
    // Execute
    const status = await readStatus(h.deps, { perSite: true });
    // Assert
    expect(status.roundLog[1]!.updates).toBe(sites.length);
    expect(status).toEqual(await withoutSummaries(h));
  });

  it("reads the rounds of a store from before summaries with one listing of rounds/, not one per round", async () => {
    // Prepare
    const { h } = await federation(34);
    for (const k of await h.deps.store.list(keys.summariesPrefix)) await h.deps.store.delete(k);
    const reads = counting(h.deps.store);
    // Execute
    const status = await readStatus({ ...h.deps, store: reads.store });
    // Assert
    expect(status.roundLog).toHaveLength(34);
    expect(reads.roundListings()).toBe(1);
  });

  it("leaves the per-site lists out past the limit one answer can carry, and says why", async () => {
    const { h } = await federation();
    const over = await readStatus(h.deps, { perSite: true, perSiteLimit: 8 });
    expect(over.roundLog.every((r) => r.sites === undefined)).toBe(true);
    expect(over.perSiteOmitted).toBe("the rounds hold 9 updates, more than the 8 one status lists site by site (the dashboard's sites page draws the per-site curves)");
    const within = await readStatus(h.deps, { perSite: true, perSiteLimit: 9 });
    expect(within.roundLog.flatMap((r) => r.sites ?? [])).toHaveLength(9);
    expect(within.perSiteOmitted).toBeUndefined();
  });

  it("has the tick write, a few a tick, the summaries a close failed to write or a store from before them lacks", async () => {
    // Prepare: twelve closed rounds, none summarised.
    const { h } = await federation(12);
    for (const k of await h.deps.store.list(keys.summariesPrefix)) await h.deps.store.delete(k);
    const truth = await readStatus(h.deps, { perSite: true });
    // Execute
    await closeRunRounds(h.deps);
    const first = await h.deps.store.list(keys.summariesPrefix);
    await closeRunRounds(h.deps);
    // Assert: the oldest eight, then the other four; the status the same throughout.
    expect(first).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((r) => keys.roundSummary(r)));
    expect(await h.deps.store.list(keys.summariesPrefix)).toHaveLength(12);
    expect(await readStatus(h.deps, { perSite: true })).toEqual(truth);
  });

  it("never stops a round from closing: a summary that fails to write is logged, and a job delivered again writes it", async () => {
    // Prepare
    const store = new FlakyStore();
    const h = new Harness(testDeps({ store }));
    const sites = await h.startTraining({ rounds: 2 });
    store.failNextPut((k) => k === keys.roundSummary(1));
    // Execute
    for (const [i, site] of sites.entries()) await send(h, site, i, 1);
    await h.runJobs();
    // Assert: round 1 closed and round 2 opened all the same.
    expect((await readStatus(h.deps)).roundLog.map((r) => [r.round, r.status])).toEqual([[1, "closed"], [2, "open"]]);
    expect(h.deps.logger.entries.some((e) => e.level === "error" && e.message.startsWith("round summary not written"))).toBe(true);
    expect(await h.deps.store.head(keys.roundSummary(1))).toBeNull();
    await handleJobMessage(h.deps, JSON.stringify({ kind: "aggregate", federation: "test-fed", round: 1, run: 1 }));
    expect(await h.deps.store.head(keys.roundSummary(1))).not.toBeNull();
  });
});
