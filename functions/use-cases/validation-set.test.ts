import { describe, expect, it } from "vitest";
import { seededRandom } from "../../core/random.ts";
import { modelLayout } from "../../core/model/layout.ts";
import { validationLoss } from "../../core/model/validation-loss.ts";
import { applyPreprocessing } from "../../core/preprocess/transform.ts";
import { Preprocessing } from "../../core/schemas/preprocessing.ts";
import { RoundScores } from "../../core/scoring/index.ts";
import { keys } from "../keys.ts";
import { readJson } from "../repo.ts";
import { delta, ErrorBody, Harness, siteTables, type TestSite } from "../../test/support/coordinator.ts";

const pooled = { columns: siteTables[0]!.columns, rows: siteTables.flatMap((t) => t.rows) };

async function fourSites(h: Harness, scoring: Record<string, unknown>): Promise<TestSite[]> {
  await h.createFederation({ expectedSites: 4, rounds: 4, scoring: { enabled: true, ...scoring } });
  const sites: TestSite[] = [];
  for (let i = 0; i < 4; i++) sites.push(await h.enrol(`Hospital ${i}`, siteTables[i % 3]!));
  for (const site of sites) await h.postStats(site);
  return sites;
}

describe("PUT /v1/admin/validation", () => {
  it("stores the set and answers with its row count", async () => {
    // Prepare
    const h = new Harness();
    await h.createFederation();

    // Execute
    const res = await h.admin("PUT", "/v1/admin/validation", pooled);

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ rows: 9 });
    expect(await h.deps.store.get(keys.validation)).not.toBeNull();
  });

  it.each([
    ["rows of the wrong width", { columns: ["age", "sex", "outcome"], rows: [["50", "M"]] }, 400],
    ["no rows", { columns: ["age", "sex", "outcome"], rows: [] }, 400],
    ["a number for a cell", { columns: ["age", "sex", "outcome"], rows: [[50, "M", "1"]] }, 400],
    ["a missing feature column", { columns: ["age", "outcome"], rows: [["50", "1"]] }, 422],
  ])("refuses %s and stores nothing", async (_, body, status) => {
    // Prepare
    const h = new Harness();
    await h.createFederation();

    // Execute
    const res = await h.admin("PUT", "/v1/admin/validation", body);

    // Assert
    expect(res.status).toBe(status);
    expect(ErrorBody.parse(res.body).error.code).toBe(status === 422 ? "BAD_VALIDATION_SET" : "INVALID_BODY");
    expect(await h.deps.store.get(keys.validation)).toBeNull();
  });
});

describe("validation-based contribution scoring", () => {
  it("records each site's marginal gain on the coordinator's set and quarantines a site the model is better without", async () => {
    // Prepare: direction never counts (minCoherence 1); the attacker pushes the output bias up by 3,
    // calling every patient positive, an update under the hard norm bound.
    const h = new Harness();
    const sites = await fourSites(h, { minCoherence: 1 });
    expect((await h.admin("PUT", "/v1/admin/validation", pooled)).status).toBe(200);
    const rng = seededRandom(9);
    const deltas = sites.map((_, i) => (i === 3 ? delta(1).map((x, k, all) => (k === all.length - 1 ? 3 : x)) : delta(1).map((x) => x * (0.5 + rng()))));
    const model0 = await h.model(0);

    // Execute
    for (const [i, site] of sites.entries()) await h.submit(site, 1, deltas[i]!, site.table.rows.length);
    await h.runJobs();

    // Assert: the gains equal leave-one-out FedAvg losses computed here from scratch.
    const scores = await readJson(h.deps.store, keys.roundScores(1), RoundScores);
    const prep = (await readJson(h.deps.store, keys.preprocessing, Preprocessing))!;
    const data = applyPreprocessing(pooled, prep);
    const layout = modelLayout({ kind: "mlp", hidden: [3] }, data.dim);
    const weights = sites.map((s) => s.table.rows.length);
    const fedavg = (idx: number[]) => {
      const total = idx.reduce((n, i) => n + weights[i]!, 0);
      return Float32Array.from(model0, (x, k) => x + idx.reduce((s, i) => s + (weights[i]! * deltas[i]![k]!) / total, 0));
    };
    const all = [0, 1, 2, 3];
    const base = validationLoss(layout, fedavg(all), data);
    for (const i of all) {
      const expected = (validationLoss(layout, fedavg(all.filter((j) => j !== i)), data) - base) / base;
      expect(scores?.scores.find((s) => s.siteId === sites[i]!.siteId)?.gain).toBeCloseTo(expected, 4);
    }
    const attacker = scores?.decisions.find((d) => d.siteId === sites[3]!.siteId);
    expect(attacker?.action).toBe("quarantine");
    expect(attacker?.reason).toMatch(/^validation loss [\d.]+ % lower without it in round 1/);
    for (const site of sites.slice(0, 3)) expect(scores?.decisions.find((d) => d.siteId === site.siteId)?.action).toBe("keep");
  });

  it("scores without gains when no validation set is stored", async () => {
    // Prepare
    const h = new Harness();
    const sites = await fourSites(h, {});

    // Execute
    for (const site of sites) await h.submit(site, 1, delta(1), site.table.rows.length);
    await h.runJobs();

    // Assert
    const scores = await readJson(h.deps.store, keys.roundScores(1), RoundScores);
    expect(scores?.scores).toHaveLength(4);
    expect(scores?.scores.every((s) => s.gain === undefined)).toBe(true);
  });
});
