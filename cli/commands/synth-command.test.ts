import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { computeSiteStats, withOutOfRange } from "../../core/preprocess/site-stats.ts";
import { assessSites } from "../../core/quality/assess-sites.ts";
import { loadFhirDataset } from "../../gpu-runner/data/datasets.ts";
import { synthCommand } from "./synth-command.ts";

const quiet = { out: () => undefined, err: () => undefined, env: {} };

describe("consilium synth, then simulate --fhir's loader", () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  const dir = async () => {
    const d = await mkdtemp(join(tmpdir(), "consilium-synth-"));
    dirs.push(d);
    return d;
  };

  it("writes the same bytes for the same seed, and hospitals the loader maps onto the data model", async () => {
    const [a, b] = [await dir(), await dir()];
    const lines: string[] = [];
    await synthCommand(["--sites", "3", "--patients", "600", "--seed", "4", "--out", a], { io: { ...quiet, out: (l) => lines.push(l) } });
    await synthCommand(["--sites", "3", "--patients", "600", "--seed", "4", "--out", b], { io: quiet });
    for (const f of ["site-01/Patient.ndjson", "site-02/Observation.ndjson", "site-03/Condition.ndjson", "manifest.json"]) {
      expect((await readFile(join(a, f))).equals(await readFile(join(b, f))), f).toBe(true);
    }
    expect(lines[0]).toMatch(/^consilium synth: 600 patients over 3 sites written to /);
    expect(lines.slice(1).map((l) => l.trim().split(":")[0])).toEqual(["site-01", "site-02", "site-03"]);

    const data = await loadFhirDataset({ dir: a, testFraction: 0.3, seed: 1 });
    expect(data.sites.map((s) => s.name)).toEqual(["site-01", "site-02", "site-03"]);
    const manifest = JSON.parse(await readFile(join(a, "manifest.json"), "utf8")) as { sites: { patients: number }[] };
    data.sites.forEach((s, k) => expect(s.train.rows.length + s.test.rows.length).toBe(manifest.sites[k]!.patients));
    expect(data.features.features.map((f) => f.name)).toContain("chol");
    expect(data.notes?.[0]).toMatch(/^site-01: \d+ patients, [\d,]+ resources read, [\d,]+ not used \(/);
  });

  it("refuses monthly flags without --months, drifts outside the sites or months, and too few patients for every month", async () => {
    const out = await dir();
    await expect(synthCommand(["--history", "3", "--out", out], { io: quiet })).rejects.toThrow(/--history and --drift need --months M/);
    await expect(synthCommand(["--months", "2", "--sites", "3", "--drift", "unit:4@1", "--out", out], { io: quiet })).rejects.toThrow(/--drift: site 4 from month 1 is outside --sites 3/);
    await expect(synthCommand(["--months", "2", "--sites", "3", "--drift", "unit:2@3", "--out", out], { io: quiet })).rejects.toThrow(/outside --sites 3 and --months 2/);
    await expect(synthCommand(["--months", "2", "--sites", "3", "--drift", "unit", "--out", out], { io: quiet })).rejects.toThrow(/--drift: drift "unit"/);
    await expect(synthCommand(["--months", "2", "--history", "2", "--sites", "3", "--patients", "11", "--out", out], { io: quiet })).rejects.toThrow(/a patient per site, in every month written/);
    await expect(synthCommand(["--months", "2", "--format", "bundle", "--out", out], { io: quiet })).rejects.toThrow(/--months writes ndjson exports/);
  });

  it("gives the quality checks what they need to name a planted unit error", async () => {
    // Ten hospitals; by default site-02 records cholesterol in mmol/L but declares mg/dL.
    const d = await dir();
    await synthCommand(["--sites", "10", "--patients", "6000", "--seed", "2", "--out", d], { io: quiet });
    const data = await loadFhirDataset({ dir: d, testFraction: 0.3, seed: 1 });
    expect(data.sites[1]?.outOfRange?.chol?.count).toBeGreaterThan(0);
    const flags = assessSites(data.sites.map((s) => ({ siteId: s.name, stats: withOutOfRange(computeSiteStats(s.train, data.features), s.outOfRange) })));
    const chol = flags.filter((f) => f.feature === "chol");
    expect(chol.map((f) => [f.siteId, f.check])).toEqual([["site-02", "unit"]]);
    expect(chol[0]?.reason).toMatch(/^chol: 100% of readings outside the data model's range vs 0% at the other sites; .*close to the factor 38\.67 between mg\/dL and mmol\/L of cholesterol/);
  });

  it("says what is wrong with a FHIR directory it cannot use", async () => {
    const d = await dir();
    await expect(loadFhirDataset({ dir: join(d, "absent"), testFraction: 0.3, seed: 1 })).rejects.toThrow(/^cannot read the FHIR directory .*absent/);
    await expect(loadFhirDataset({ dir: d, testFraction: 0.3, seed: 1 })).rejects.toThrow(/has no site directories$/);
    await writeFile(join(d, "cdm.json"), JSON.stringify({ features: [] }));
    await expect(loadFhirDataset({ dir: d, testFraction: 0.3, seed: 1 })).rejects.toThrow(/cdm\.json is not a common data model:/);
  });

  it("refuses fewer patients than sites", async () => {
    await expect(synthCommand(["--sites", "5", "--patients", "3", "--out", await dir()], { io: quiet })).rejects.toThrow(/--patients must be at least --sites/);
  });
});
