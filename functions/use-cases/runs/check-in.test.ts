import { describe, expect, it } from "vitest";
import { computeSiteStats } from "../../../core/preprocess/site-stats.ts";
import type { Table } from "../../../core/preprocess/table.ts";
import { seededRandom, standardNormal } from "../../../core/random.ts";
import { CheckInAnswer, DriftExclusion, RunsView } from "../../../core/schemas/consortium.ts";
import { FeatureSpec } from "../../../core/schemas/feature-spec.ts";
import { QualityReport } from "../../../core/quality/quality-report.ts";
import { Harness, type TestSite, edgeCounts } from "../../../test/support/coordinator.ts";
import { keys } from "../../keys.ts";
import { readJson } from "../../repo.ts";
import { closeExpiredRounds } from "../close-expired-rounds.ts";

const spec = FeatureSpec.parse({
  label: { column: "outcome", positive: ["1"] },
  features: [
    { name: "age", column: "age", type: "numeric", range: { min: 18, max: 100 } },
    { name: "chol", column: "chol", type: "numeric", range: { min: 100, max: 400 }, unit: "mg/dL" },
    { name: "sex", column: "sex", type: "categorical", levels: ["F", "M"] },
  ],
});

/** A hospital's rows: ages around `age`, cholesterol around 220 mg/dL (divided by `cholDivisor`: 38.67 is mmol/L), 30 % positive. */
function table(rows: number, seed: number, o: { age?: number; cholDivisor?: number } = {}): Table {
  const rng = seededRandom(seed);
  const out: string[][] = [];
  for (let i = 0; i < rows; i++) {
    const age = Math.min(99, Math.max(19, (o.age ?? 55) + 10 * standardNormal(rng)));
    const chol = Math.min(390, Math.max(110, 220 + 35 * standardNormal(rng))) / (o.cholDivisor ?? 1);
    out.push([age.toFixed(0), chol.toFixed(2), rng() < 0.5 ? "F" : "M", rng() < 0.3 ? "1" : "0"]);
  }
  return { columns: ["age", "chol", "sex", "outcome"], rows: out };
}

const counts = edgeCounts;

/** Three hospitals of 400 rows through run 1 to version 1, the champion. */
async function consortium(): Promise<{ h: Harness; sites: TestSite[] }> {
  const h = new Harness();
  await h.createFederation({ features: spec, expectedSites: 3, rounds: 1, continuous: { newData: { growth: 0.5 } } });
  const sites = [];
  for (const [i, name] of ["A", "B", "C"].entries()) sites.push(await h.enrol(`Hospital ${name}`, table(400, 10 + i)));
  for (const site of sites) expect((await h.postStats(site)).status).toBe(202);
  const task = await h.task(sites[0]!);
  if (task.kind !== "train") throw new Error(`expected a train task, got ${task.kind}`);
  for (const site of sites) await h.submit(site, 1, new Float32Array(task.layout.bodySize).fill(0.01), 400);
  await h.runJobs();
  const global = counts(30, 5, 30, 5);
  for (const site of sites) expect((await h.request("POST", "/v1/evaluations", { token: site.token, json: { modelVersion: 1, trainRows: 400, testRows: 70, global, personalized: global, local: global } })).status).toBe(202);
  return { h, sites };
}

async function checkIn(h: Harness, site: TestSite, rows: Table): Promise<CheckInAnswer> {
  const res = await h.request("POST", "/v1/checkins", { token: site.token, json: { stats: computeSiteStats(rows, spec), dataVersion: "2027-06" } });
  expect(res.status).toBe(201);
  return CheckInAnswer.parse(res.body);
}

describe("check-ins between runs", () => {
  it("flags a population shift and a unit error at the right site and feature, triggers a run from drift and from grown data, and keeps the unit error out of the next run", async () => {
    // Prepare
    const { h, sites } = await consortium();
    const [a, b, c] = sites as [TestSite, TestSite, TestSite];

    // Execute: A unchanged, B older patients, C cholesterol in mmol/L; then A's rows grow to 1200.
    const same = await checkIn(h, a, table(400, 99));
    const older = await checkIn(h, b, table(400, 98, { age: 68 }));
    const mmol = await checkIn(h, c, table(400, 97, { cholDivisor: 38.67 }));
    const grown = await checkIn(h, a, table(1200, 96));
    const pending = RunsView.parse((await h.admin("GET", "/v1/admin/runs")).body).pending;
    const tick = await closeExpiredRounds(h.root);
    for (const site of sites) expect((await h.postStats(site)).status).toBe(202);
    h.useRun(2);
    const quality = await readJson(h.deps.store, keys.quality, QualityReport);
    const fixed = await checkIn(h, c, table(400, 95));

    // Assert
    expect(same).toMatchObject({ comparedWith: 1, excluded: false, triggered: [] });
    expect(same.flags.filter((f) => f.severity === "act")).toEqual([]);
    expect(older.triggered).toEqual(["drift"]);
    expect(older.flags.filter((f) => f.severity === "act").map((f) => [f.siteId, f.feature])).toContainEqual([b.siteId, "age"]);
    expect(older.reasons.join("\n")).toMatch(new RegExp(`retrain: ${b.siteId}: age .*\\d`));
    expect(mmol).toMatchObject({ excluded: true, triggered: [] });
    expect(mmol.flags.filter((f) => f.check === "unit").map((f) => [f.siteId, f.feature])).toEqual([[c.siteId, "chol"]]);
    expect(mmol.reasons[0]).toMatch(/leave out .*chol.*38\.67/);
    expect(grown.triggered).toEqual(["new-data"]);
    expect(pending.map((t) => t.kind).sort()).toEqual(["drift", "new-data"]);
    expect(pending.find((t) => t.kind === "new-data")?.reason).toMatch(/2000 rows, 67 % more than the 1200 version 1 was trained on/);
    expect(tick.runs).toEqual({ action: "started", run: 2 });
    expect(quality?.excluded).toEqual([c.siteId]);
    expect(quality?.flags.find((f) => f.siteId === c.siteId)?.reason).toMatch(/against version 1: leave out/);
    expect(fixed.excluded).toBe(false);
    expect(await readJson(h.root.store, keys.driftExclusion(c.siteId), DriftExclusion)).toBeNull();
  });

  it("raises a site's drift trigger once per champion however often it checks in, and keeps every check-in", async () => {
    const { h, sites } = await consortium();
    const b = sites[1]!;
    const answers = [];
    for (let i = 0; i < 3; i++) {
      h.root.clock.advance(60_000);
      answers.push(await checkIn(h, b, table(400, 50 + i, { age: 68 })));
    }
    expect(answers.map((x) => x.triggered)).toEqual([["drift"], [], []]);
    expect(answers.map((x) => x.flags.some((f) => f.feature === "age" && f.severity === "act"))).toEqual([true, true, true]);
    expect((await h.root.store.list(keys.triggersPrefix)).filter((k) => k.includes("-drift-"))).toHaveLength(1);
    expect(await h.root.store.list(`consortium/checkins/${b.siteId}/`)).toHaveLength(3);
  });

  it("refuses a check-in that is not one with a clear error, and nothing is kept", async () => {
    const { h, sites } = await consortium();
    const res = await h.request("POST", "/v1/checkins", { token: sites[0]!.token, json: { stats: { rows: -1 }, dataVersion: "" } });
    expect(res.status).toBe(400);
    expect(await h.root.store.list("consortium/checkins")).toEqual([]);
  });
});
