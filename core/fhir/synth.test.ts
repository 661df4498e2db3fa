import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultCdm } from "./default-cdm.ts";
import { mapResources } from "./map-bundle.ts";
import { ConditionPart, ObservationPart, PatientPart } from "./resources.ts";
import { defaultSiteProfiles, SynthConfig } from "./synth-config.ts";
import { CohortManifest, sitePatientCounts, synthCohort } from "./synth.ts";
import { writeCohort } from "../../gpu-runner/data/write-cohort.ts";

const dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), "fhir-synth-"));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Every file under `dir`, relative path → sha256. */
async function digests(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out[path.slice(dir.length)] = createHash("sha256").update(await readFile(path)).digest("hex");
  }
  return out;
}

const config = (seed: number) => ({ seed, patients: 600, sites: defaultSiteProfiles(3) });

describe("writeCohort", () => {
  it("writes identical bytes for the same seed, NDJSON and Bundles", async () => {
    // Execute
    const [a, b, c, d] = await Promise.all([tempDir(), tempDir(), tempDir(), tempDir()]);
    await writeCohort(config(7), a);
    await writeCohort(config(7), b);
    await writeCohort(config(7), c, { format: "bundle" });
    await writeCohort(config(7), d, { format: "bundle" });

    // Assert
    const [da, db, dc, dd] = await Promise.all([a, b, c, d].map(digests));
    expect(Object.keys(da!).sort()).toEqual(["/cdm.json", "/manifest.json", ...["site-01", "site-02", "site-03"].flatMap((s) => ["Condition", "Observation", "Patient"].map((t) => `/${s}/${t}.ndjson`))].sort());
    expect(db).toEqual(da);
    expect(Object.keys(dc!).sort()).toEqual(["/cdm.json", "/manifest.json", "/site-01/bundle.json", "/site-02/bundle.json", "/site-03/bundle.json"]);
    expect(dd).toEqual(dc);
  });

  it("writes different bytes for a different seed", async () => {
    // Execute
    const [a, b] = await Promise.all([tempDir(), tempDir()]);
    await writeCohort(config(7), a);
    await writeCohort(config(8), b);

    // Assert
    const [da, db] = await Promise.all([a, b].map(digests));
    for (const file of ["/site-01/Patient.ndjson", "/site-01/Observation.ndjson", "/site-02/Condition.ndjson"]) expect(db![file]).not.toBe(da![file]);
  });

  it("writes what synthCohort returns, one resource a line, and a manifest that parses", async () => {
    // Prepare
    const dir = await tempDir();
    const { sites, manifest } = synthCohort(config(7));

    // Execute
    const written = await writeCohort(config(7), dir);

    // Assert
    expect(written).toEqual(manifest);
    expect(CohortManifest.parse(JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")))).toEqual(manifest);
    const observations = await readFile(join(dir, "site-02", "Observation.ndjson"), "utf8");
    expect(observations).toBe(sites[1]!.resources.Observation.map((o) => `${JSON.stringify(o)}\n`).join(""));
  });
});

describe("synthCohort", () => {
  it("shares the patients among the sites by share, largest remainders first", () => {
    // Execute
    const parsed = SynthConfig.parse({ seed: 1, patients: 1000, sites: defaultSiteProfiles(4) });
    const counts = sitePatientCounts(parsed);

    // Assert: shares 0.5, 1, 1.5, 0.75 of 3.75; the largest remainder (266.67) gets the last patient.
    expect(counts).toEqual([133, 267, 400, 200]);
    expect(sitePatientCounts(SynthConfig.parse({ seed: 1, patients: 10, sites: [{ name: "a" }, { name: "b" }, { name: "c" }] }))).toEqual([4, 3, 3]);
  });

  it("writes valid R4 resources that the default CDM maps, with every unused one planted on purpose", () => {
    // Execute
    const { sites } = synthCohort({ seed: 3, patients: 400, sites: defaultSiteProfiles(2) });

    // Assert
    for (const s of sites) {
      for (const p of s.resources.Patient) expect(PatientPart.safeParse(p).success).toBe(true);
      for (const o of s.resources.Observation) expect(ObservationPart.safeParse(o).success).toBe(true);
      for (const c of s.resources.Condition) expect(ConditionPart.safeParse(c).success).toBe(true);
      const { report } = mapResources(defaultCdm, [...s.resources.Patient, ...s.resources.Observation, ...s.resources.Condition]);
      const unitErrors = s.name === "site-02" ? s.resources.Observation.filter((o) => o.code.coding?.[0]?.code === "2093-3").length : 0;
      expect(report.resources.Observation?.dropped).toEqual({
        "unknown-code": s.tally.planted.otherObservations,
        "outside-window": s.tally.planted.oldReadings,
        ...(unitErrors > 0 ? { "out-of-range": unitErrors } : {}),
      });
      expect(report.resources.Condition?.dropped).toEqual(s.tally.planted.priorEvents > 0 ? { "outside-window": s.tally.planted.priorEvents } : {});
    }
  });

  it("refuses duplicate site names and fewer patients than sites", () => {
    const dup = SynthConfig.safeParse({ seed: 1, patients: 10, sites: [{ name: "a" }, { name: "a" }] });
    const few = SynthConfig.safeParse({ seed: 1, patients: 1, sites: [{ name: "a" }, { name: "b" }] });
    const path = SynthConfig.safeParse({ seed: 1, patients: 5, sites: [{ name: "../a" }] });
    expect(dup.error?.issues.map((i) => i.message)).toEqual(["site names must be unique"]);
    expect(few.error?.issues.map((i) => i.message)).toEqual(["need at least one patient per site"]);
    expect(path.error?.issues.map((i) => i.message)).toEqual(["site name must be a plain file name"]);
  });
});
