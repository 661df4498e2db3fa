import { describe, expect, it } from "vitest";
import type { Table } from "../../core/preprocess/table.ts";
import { Preprocessing } from "../../core/schemas/preprocessing.ts";
import { keys } from "../keys.ts";
import { readJson } from "../repo.ts";
import { delta, Harness, type TestSite } from "../../test/support/coordinator.ts";

/** `rows` patients of ages 40–79 and alternating sex, the first `positives` of them with the outcome. */
function hospital(rows: number, positives: number, ageOffset = 0): Table {
  return {
    columns: ["age", "sex", "outcome"],
    rows: Array.from({ length: rows }, (_, i) => [String(40 + ((i * 7) % 40) + ageOffset), i % 2 ? "M" : "F", i < positives ? "1" : "0"]),
  };
}

/** Four hospitals of 100 patients: three with 15 % prevalence, the fourth with 85 %. */
async function federation(policy: "warn" | "exclude"): Promise<{ h: Harness; sites: TestSite[] }> {
  const h = new Harness();
  await h.createFederation({ expectedSites: 4, quality: { policy } });
  const sites: TestSite[] = [];
  for (const [i, name] of ["North", "South", "East", "Bad Labels"].entries()) sites.push(await h.enrol(name, hospital(100, i === 3 ? 85 : 15, i)));
  for (const site of sites) expect((await h.postStats(site)).status).toBe(202);
  return { h, sites };
}

describe("the data-quality checks at the coordinator", () => {
  it("flag the site whose labels look wrong, with the reason, in the status; under warn it takes part", async () => {
    const { h, sites } = await federation("warn");
    const status = await h.status();
    expect(status.quality?.flags.map((f) => [f.siteId, f.check])).toEqual([[sites[3]!.siteId, "prevalence"]]);
    expect(status.quality?.flags[0]?.reason).toMatch(/^label prevalence 85% vs 15% at the other sites/);
    expect(status.quality?.excluded).toEqual([]);
    expect(await h.task(sites[3]!)).toMatchObject({ kind: "train", round: 1 });
  });

  it("under exclude leave the site out of preprocessing, rounds and evaluation", async () => {
    const { h, sites } = await federation("exclude");
    const [a, b, c, bad] = sites as [TestSite, TestSite, TestSite, TestSite];
    expect((await h.status()).quality).toMatchObject({ policy: "exclude", excluded: [bad.siteId] });
    // The preprocessing is the three others' (their ages average 59.3 plus offsets 0–2; the bad site's offset is 3).
    const prep = await readJson(h.deps.store, keys.preprocessing, Preprocessing);
    const age = prep?.features.find((f) => f.name === "age");
    expect(age?.kind === "numeric" && age.mean).toBeCloseTo(60.3, 1); // 60.8 with the bad site
    expect(await h.task(bad)).toMatchObject({ kind: "done" });
    const refused = await h.postUpdate(bad, 1, await h.upload(bad, 1, delta(1), 10));
    expect(refused).toMatchObject({ status: 403, body: { error: { code: "SITE_EXCLUDED" } } });
    // The round closes on the three sites taking part.
    for (const [i, site] of [a, b, c].entries()) await h.submit(site, 1, delta(i + 1), 10);
    expect(await h.runJobs()).toEqual(["aggregated"]);
    expect((await h.round(1))?.included).toEqual([a.siteId, b.siteId, c.siteId].sort());
  });

  it("warn instead when excluding would leave fewer than two sites", async () => {
    const h = new Harness();
    await h.createFederation({ expectedSites: 3, quality: { policy: "exclude" } });
    const sites: TestSite[] = [];
    for (const [i, name] of ["A", "B", "C"].entries()) sites.push(await h.enrol(name, hospital(200, [10, 180, 190][i]!)));
    for (const site of sites) await h.postStats(site);
    const quality = (await h.status()).quality;
    expect(quality?.flags.length).toBeGreaterThan(0);
    expect(quality?.excluded).toEqual([]);
    expect(quality?.note).toMatch(/^not excluded: leaving out \d of 3 sites would leave fewer than 2$/);
  });
});
