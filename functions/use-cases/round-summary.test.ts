import { describe, expect, it } from "vitest";
import { aurocFromHistogram, countPredictions, type EvalCounts } from "../../core/metrics/index.ts";
import { RoundSummary } from "../../core/schemas/round-summary.ts";
import { StoredUpdate } from "../../core/schemas/round.ts";
import type { FederationStatus } from "../../core/schemas/status.ts";
import { keys } from "../keys.ts";
import type { ObjectStore } from "../ports.ts";
import { readJson, writeJson } from "../repo.ts";
import { delta, Harness, T0, type TestSite } from "../../test/support/coordinator.ts";
import { readStatus } from "./read-status.ts";

const ROUNDS = 3;
/** Site i's base-model counts in round r: scores that separate the classes better round after round. */
function counts(i: number, r: number): EvalCounts {
  const labels = new Uint8Array(40).map((_, k) => (k % 3 === 0 ? 1 : 0));
  const scores = Float64Array.from(labels, (y, k) => Math.min(0.999, Math.max(0, (y ? 0.5 : 0.45) + (y ? 1 : -1) * 0.08 * r + ((k * 37 + i * 11) % 17) / 40 - 0.2)));
  return countPredictions(scores, labels);
}
const loss = (i: number, r: number) => 0.7 / r + 0.03 * i;

/** Three hospitals, three rounds, every manifest with the base model's counts and a training loss. */
async function federation(): Promise<{ h: Harness; sites: TestSite[] }> {
  const h = new Harness();
  const sites = await h.startTraining({ rounds: ROUNDS });
  for (let r = 1; r <= ROUNDS; r++) {
    for (const [i, site] of sites.entries()) {
      const manifest = await h.upload(site, r, delta(i + 1), site.table.rows.length);
      const res = await h.postUpdate(site, r, { ...manifest, baseMetrics: counts(i, r), trainLoss: loss(i, r) });
      expect(res.status).toBe(202);
    }
    await h.runJobs();
  }
  return { h, sites };
}

/** The store, counting the update manifests read. */
function counting(store: ObjectStore): { store: ObjectStore; manifestsRead: () => number } {
  let reads = 0;
  return {
    store: new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === "get") return (key: string) => {
          if (key.includes("/updates/") && key.endsWith(".json")) reads++;
          return target.get(key);
        };
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    }),
    manifestsRead: () => reads,
  };
}

async function withoutSummaries(h: Harness): Promise<FederationStatus> {
  for (let r = 1; r <= ROUNDS; r++) await h.deps.store.delete(keys.roundSummary(r));
  return readStatus(h.deps, { perSite: true });
}

describe("round summaries", () => {
  it("are written as rounds close, and the status read from them is the status read from every manifest", async () => {
    // Prepare
    const { h, sites } = await federation();
    const reads = counting(h.deps.store);
    // Execute
    const summarised = await readStatus({ ...h.deps, store: reads.store }, { perSite: true });
    const fromManifests = await withoutSummaries(h);
    // Assert: no closed round's manifest was read, and nothing differs.
    expect(reads.manifestsRead()).toBe(0);
    expect(summarised).toEqual(fromManifests);
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

  it("leaves the per-site lists out unless asked", async () => {
    const { h } = await federation();
    const status = await readStatus(h.deps);
    expect(status.roundLog.every((r) => r.sites === undefined && typeof r.trainLoss === "number")).toBe(true);
  });

  it("counts a manifest written after the summary beside it, and passes over a summary one of whose manifests is gone", async () => {
    // Prepare: a manifest in round 2 that its summary does not list (a late update before its removal).
    const { h, sites } = await federation();
    const stored = (await readJson(h.deps.store, keys.updateManifest(2, sites[0]!.siteId), StoredUpdate))!;
    await writeJson(h.deps.store, keys.updateManifest(2, "late-site"), { ...stored, siteId: "late-site", receivedAt: T0 + 1, trainLoss: 9 });
    // And round 3 loses a manifest its summary counted.
    await h.deps.store.delete(keys.updateManifest(3, sites[1]!.siteId));
    // Execute
    const status = await readStatus(h.deps, { perSite: true });
    const truth = await withoutSummaries(h);
    // Assert
    expect(status).toEqual(truth);
    expect(status.roundLog[1]!.updates).toBe(sites.length + 1);
    expect(status.roundLog[1]!.sites!.some((s) => s.siteId === "late-site" && s.trainLoss === 9)).toBe(true);
    expect(status.roundLog[2]!.updates).toBe(sites.length - 1);
    expect(status.roundLog[2]!.baseModel?.n).toBe((sites.length - 1) * 40);
  });

  it.each([
    ["not JSON", "{"],
    ["not a summary", JSON.stringify({ round: 1, updates: "all of them" })],
    ["another round's summary", "round 2"],
    ["a summary with a negative count", "negative"],
  ])("reads the manifests when a summary is %s, and says so", async (_, body) => {
    // Prepare
    const { h } = await federation();
    const other = (await readJson(h.deps.store, keys.roundSummary(2), RoundSummary))!;
    const replaced = body === "round 2" ? JSON.stringify(other) : body === "negative" ? JSON.stringify({ ...other, round: 1, updates: other.updates.map((u) => ({ ...u, byteLength: -1 })) }) : body;
    await h.deps.store.put(keys.roundSummary(1), replaced);
    // Execute
    const status = await readStatus(h.deps, { perSite: true });
    // Assert
    expect(status).toEqual(await withoutSummaries(h));
    if (body !== "round 2") expect(h.deps.logger.entries.some((e) => e.message.startsWith("round summary unreadable"))).toBe(true);
  });
});
