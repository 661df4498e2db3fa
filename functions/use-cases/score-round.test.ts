import { describe, expect, it } from "vitest";
import { seededRandom } from "../../core/random.ts";
import { Reputation, RoundScores } from "../../core/scoring/index.ts";
import { AuditRecord, ModelManifest } from "../../core/schemas/round.ts";
import { keys } from "../keys.ts";
import { readJson } from "../repo.ts";
import { delta, expectClose, fedAvgExpected, FlakyStore, Harness, siteTables, testDeps, type TestSite } from "../../test/support/coordinator.ts";
import { aggregateRound } from "./aggregate/aggregate-round.ts";

const audit = (h: Harness, r: number) => readJson(h.deps.store, keys.audit(`round-${String(r).padStart(6, "0")}`), AuditRecord);

/** Five hospitals (the three test tables, reused), all statistics in: round 1 is open. */
async function fiveSites(h: Harness, overrides: Parameters<Harness["createFederation"]>[0] = {}): Promise<TestSite[]> {
  await h.createFederation({ expectedSites: 5, rounds: 6, ...overrides });
  const sites: TestSite[] = [];
  for (let i = 0; i < 5; i++) sites.push(await h.enrol(`Hospital ${i}`, siteTables[i % 3]!));
  for (const site of sites) {
    const res = await h.postStats(site);
    if (res.status !== 202) throw new Error(`stats of ${site.siteId}: ${res.status}`);
  }
  return sites;
}

/** Every site trains along one direction plus its own noise; `flipped` sends the negation of its delta. */
async function playRound(h: Harness, sites: readonly TestSite[], round: number, flipped: TestSite | null, rng: () => number): Promise<void> {
  for (const site of sites) {
    const honest = delta(1).map((x) => x + 0.02 * (rng() - 0.5));
    await h.submit(site, round, site === flipped ? honest.map((x) => -x) : honest, site.table.rows.length);
  }
  await h.runJobs();
}

describe("contribution scoring in the coordinator", () => {
  it("quarantines a site sending sign-flipped deltas in round 1 and leaves it out afterwards", async () => {
    // Prepare
    const h = new Harness();
    const sites = await fiveSites(h, { scoring: { enabled: true } });
    const attacker = sites[4]!;
    const rng = seededRandom(3);

    // Execute
    for (let r = 1; r <= 5; r++) await playRound(h, sites, r, attacker, rng);

    // Assert
    const rounds = await Promise.all([1, 2, 3, 4, 5].map((r) => readJson(h.deps.store, keys.roundScores(r), RoundScores)));
    const actionsOf = (id: string) => rounds.map((s) => s!.decisions.find((d) => d.siteId === id)!.action);
    expect(actionsOf(attacker.siteId)).toEqual(["quarantine", "quarantine", "quarantine", "quarantine", "quarantine"]);
    for (const r of rounds) expect(r!.coherence).toBeGreaterThan(0.95);
    for (const site of sites.slice(0, 4)) expect(actionsOf(site.siteId)).toEqual(["keep", "keep", "keep", "keep", "keep"]);
    const first = rounds.findIndex((s) => s!.decisions.some((d) => d.siteId === attacker.siteId && d.action === "quarantine")) + 1;
    for (let r = first + 1; r <= 5; r++) {
      const manifest = await readJson(h.deps.store, keys.modelManifest(r), ModelManifest);
      expect(manifest?.sites).not.toContain(attacker.siteId);
      expect((await audit(h, r))?.scoring?.excluded).toEqual([attacker.siteId]);
    }
    const decisions = (await audit(h, first))?.scoring?.decisions ?? [];
    expect(decisions.map((d) => d.siteId).sort()).toEqual(sites.map((s) => s.siteId).sort());
    expect(decisions.find((d) => d.siteId === attacker.siteId)?.reason).toMatch(new RegExp(`in round ${first}; reputation 0\\.5 < 0\\.6: quarantined until round ${first + 5}$`));
    const reputation = await readJson(h.deps.store, keys.reputation(5), Reputation);
    expect(reputation?.sites[attacker.siteId]?.quarantinedUntil).toBeGreaterThanOrEqual(6);
  });

  it("shows each site's latest reputation and quarantine, and each round's scores, in the status", async () => {
    // Prepare
    const h = new Harness();
    const sites = await fiveSites(h, { scoring: { enabled: true } });
    const attacker = sites[4]!;
    const rng = seededRandom(3);

    // Execute
    for (let r = 1; r <= 2; r++) await playRound(h, sites, r, attacker, rng);
    const status = await h.status();

    // Assert
    const bad = status.sites.find((s) => s.id === attacker.siteId);
    expect(bad).toMatchObject({ reputation: 0.25, quarantinedUntil: 7, quarantined: true });
    for (const site of sites.slice(0, 4)) expect(status.sites.find((s) => s.id === site.siteId)).toMatchObject({ reputation: 1, quarantinedUntil: 0, quarantined: false });
    const round2 = status.roundLog.find((r) => r.round === 2)!;
    expect(round2.scores).toHaveLength(5);
    expect(round2.scores?.find((s) => s.siteId === attacker.siteId)).toMatchObject({ action: "quarantine", factor: 0 });
    expect(round2.scores?.find((s) => s.siteId === attacker.siteId)?.agreement).toBeLessThan(-0.2);
  });

  it("with the federation's own thresholds, down-weights a site flagged once instead of quarantining it", async () => {
    // Prepare
    const h = new Harness();
    const sites = await fiveSites(h, { scoring: { enabled: true, quarantineBelow: 0.4 } });
    const attacker = sites[4]!;
    const rng = seededRandom(5);

    // Execute
    await playRound(h, sites, 1, attacker, rng);
    await playRound(h, sites, 2, null, rng);

    // Assert
    const included = (await audit(h, 2))?.included ?? [];
    expect(included.find((u) => u.siteId === attacker.siteId)?.weight).toBe(attacker.table.rows.length * 0.5);
    expect((await readJson(h.deps.store, keys.modelManifest(2), ModelManifest))?.samples).toBe(sites.reduce((n, s) => n + s.table.rows.length, 0));
  });

  it("changes nothing when scoring is off or absent", async () => {
    for (const overrides of [{}, { scoring: { enabled: false } }]) {
      // Prepare
      const h = new Harness();
      const sites = await fiveSites(h, overrides);
      const model0 = await h.model(0);
      const parts = sites.map((s, i) => ({ delta: i === 4 ? delta(1).map((x) => -x) : delta(1), samples: s.table.rows.length }));

      // Execute
      for (const [i, site] of sites.entries()) await h.submit(site, 1, parts[i]!.delta, parts[i]!.samples);
      await h.runJobs();

      // Assert
      expectClose(await h.model(1), fedAvgExpected(model0, parts));
      expect((await h.deps.store.list(keys.roundsPrefix)).filter((k) => k.endsWith("/scores.json") || k.endsWith("/reputation.json"))).toEqual([]);
      expect((await audit(h, 1))?.scoring).toBeUndefined();
      const status = await h.status();
      expect(status.sites.every((s) => s.reputation === undefined && s.quarantined === undefined)).toBe(true);
      expect(status.roundLog.every((r) => r.scores === undefined)).toBe(true);
    }
  });

  it("writes the same model and scores when the job is redelivered after a crash before the round closed", async () => {
    // Prepare: the first delivery dies writing the audit record, after the scores.
    const store = new FlakyStore({ clock: testDeps().clock });
    const h = new Harness(testDeps({ store }));
    const sites = await fiveSites(h, { scoring: { enabled: true } });
    for (const site of sites) await h.submit(site, 1, delta(1), site.table.rows.length);
    h.deps.queue.drain();
    store.failNextPut((k) => k === keys.audit("round-000001"));
    await aggregateRound(h.deps, { kind: "aggregate", federation: "test-fed", round: 1 }).catch(() => undefined);
    const scores = await h.deps.store.get(keys.roundScores(1));
    expect(scores).not.toBeNull();

    // Execute
    const outcome = await aggregateRound(h.deps, { kind: "aggregate", federation: "test-fed", round: 1 });

    // Assert
    expect(outcome).toBe("aggregated");
    expect(await h.deps.store.get(keys.roundScores(1))).toEqual(scores);
    expect((await audit(h, 1))?.scoring?.decisions).toHaveLength(5);
  });
});
