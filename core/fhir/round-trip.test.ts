import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CARDIO_FEATURES, CARDIO_MODEL } from "./cardio-model.ts";
import { Cdm } from "./cdm.ts";
import { defaultCdm } from "./default-cdm.ts";
import type { FhirTable } from "./fhir-mapper.ts";
import { mapBundle, mapNdjson } from "./map-bundle.ts";
import { defaultSiteProfiles } from "./synth-config.ts";
import { synthCohort, type SynthSite } from "./synth.ts";
import { column, fitLogistic, median } from "../../test/support/fhir.ts";
import { CHOLESTEROL_MG_DL_PER_MMOL_L } from "./units.ts";
import { writeCohort } from "../../gpu-runner/data/write-cohort.ts";

/**
 * Four sites of the default profiles: site-01 clean, site-02 the planted unit error (mmol/L sent
 * as mg/dL) and ICD-10, site-03 correct mmol/L cholesterol and IFCC HbA1c, site-04 SBP +8.
 */
const CONFIG = { seed: 11, patients: 8000, sites: defaultSiteProfiles(4) };
const TYPES = ["Patient", "Observation", "Condition"];
/** The default CDM with a cholesterol range wide enough to let the unit error through. */
const lenient = Cdm.parse({ ...defaultCdm, features: defaultCdm.features.map((f) => (f.name === "chol" ? { ...f, range: { min: 0, max: 600 } } : f)) });

let dir: string;
let sites: SynthSite[];
const mapped = new Map<string, FhirTable>();
const lenientMapped = new Map<string, FhirTable>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fhir-round-trip-"));
  await writeCohort(CONFIG, dir);
  sites = synthCohort(CONFIG).sites;
  for (const s of sites) {
    const files = () => TYPES.map((t) => createReadStream(join(dir, s.name, `${t}.ndjson`)));
    mapped.set(s.name, await mapNdjson(defaultCdm, ...files()));
    lenientMapped.set(s.name, await mapNdjson(lenient, ...files()));
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const site = (name: string) => sites.find((s) => s.name === name)!;
const truthOf = (name: string, f: (typeof CARDIO_FEATURES)[number]) => site(name).truth.map((t) => t.values[f]);
const prevalence = (name: string) => {
  const y = column(mapped.get(name)!.table, "cvd_event");
  return y.reduce((a, b) => a + b, 0) / y.length;
};

describe("synthetic cohort → NDJSON files → mapped table", () => {
  it("recovers every site's patients and label prevalence exactly, and the planted differences in prevalence", () => {
    for (const s of sites) {
      const { report } = mapped.get(s.name)!;
      expect(report.patients).toBe(s.tally.patients);
      expect(report.label.positive).toBe(s.tally.positives);
      expect(report.label.missing).toBe(0);
    }
    // riskOffset −0.6 (site-01) against +0.6 (site-02).
    expect(prevalence("site-02")).toBeGreaterThan(prevalence("site-01") + 0.08);
  });

  it("maps a clean site's features to the values the outcome was drawn from", () => {
    // Prepare
    const { table } = mapped.get("site-01")!;

    // Assert
    for (const f of CARDIO_FEATURES) {
      const got = column(table, f);
      const want = truthOf("site-01", f);
      const present = got.map((g, i) => [g, want[i]!]).filter(([g]) => !Number.isNaN(g));
      expect(present.length).toBeGreaterThan(0.6 * got.length);
      for (const [g, w] of present) expect(g).toBeCloseTo(w!, 6);
    }
    expect(column(table, "cvd_event")).toEqual(site("site-01").truth.map((t) => t.label));
  });

  it("counts the missing readings the site left out", () => {
    for (const s of sites) {
      const { report } = mapped.get(s.name)!;
      for (const f of ["sbp", "hba1c", "bmi"] as const) expect(report.features[f]!.missing).toBe(s.tally.missing[f]);
      expect(report.features.smoker!.missing).toBe(s.tally.missing.smoking);
    }
  });

  it("drops the unit-error site's cholesterol as out of range, and shows it 38.67× too small when let through", () => {
    // Prepare
    const strict = mapped.get("site-02")!.report.features.chol!;
    const readings = site("site-02").resources.Observation.filter((o) => o.code.coding?.[0]?.code === "2093-3").length;
    const wrong = column(lenientMapped.get("site-02")!.table, "chol");
    const right = ["site-01", "site-04"].flatMap((n) => column(lenientMapped.get(n)!.table, "chol"));
    const truth = truthOf("site-02", "chol");

    // Assert
    expect(strict).toMatchObject({ present: 0, dropped: { "out-of-range": readings } });
    expect(median(right) / median(wrong)).toBeGreaterThan(0.95 * CHOLESTEROL_MG_DL_PER_MMOL_L);
    expect(median(right) / median(wrong)).toBeLessThan(1.05 * CHOLESTEROL_MG_DL_PER_MMOL_L);
    wrong.forEach((w, i) => Number.isNaN(w) || expect(Math.abs(w * CHOLESTEROL_MG_DL_PER_MMOL_L - truth[i]!)).toBeLessThan(0.2));
  });

  it("converts a site's correct mmol/L cholesterol and IFCC HbA1c back to mg/dL and %", () => {
    // Prepare
    const { table } = mapped.get("site-03")!;
    const pairs = (f: "chol" | "hba1c") => {
      const truth = truthOf("site-03", f);
      return column(table, f).map((g, i) => [g, truth[i]!]).filter(([g]) => !Number.isNaN(g));
    };

    // Assert: 2 decimals of mmol/L is ±0.19 mg/dL; whole mmol/mol is ±0.046 %.
    expect(pairs("chol").length).toBeGreaterThan(1000);
    for (const [g, w] of pairs("chol")) expect(Math.abs(g! - w!)).toBeLessThan(0.2);
    for (const [g, w] of pairs("hba1c")) expect(Math.abs(g! - w!)).toBeLessThan(0.05);
  });

  it("carries the planted measurement shift (SBP +8 mm[Hg] at site-04)", () => {
    // Prepare
    const got = column(mapped.get("site-04")!.table, "sbp");
    const want = truthOf("site-04", "sbp");

    // Assert
    got.forEach((g, i) => Number.isNaN(g) || expect(g - want[i]!).toBeCloseTo(8, 6));
  });

  it("maps a site's Bundle to the same table as its NDJSON files", async () => {
    // Prepare
    const bundleDir = join(dir, "bundles");
    await writeCohort(CONFIG, bundleDir, { format: "bundle" });

    // Execute
    const fromBundle = mapBundle(defaultCdm, await readFile(join(bundleDir, "site-03", "bundle.json"), "utf8"));

    // Assert
    const fromNdjson = mapped.get("site-03")!;
    expect(fromBundle.table).toEqual(fromNdjson.table);
    expect(fromBundle.report.features).toEqual(fromNdjson.report.features);
  });

  it("lets a logistic regression on the pooled table recover the sign (and roughly the size) of every known coefficient", () => {
    // Prepare
    const tables = sites.map((s) => mapped.get(s.name)!.table);
    const pooled = { columns: tables[0]!.columns, rows: tables.flatMap((t) => t.rows) };

    // Execute
    const { coefficients, rows } = fitLogistic(pooled, CARDIO_FEATURES, "cvd_event", 400);

    // Assert
    expect(rows).toBeGreaterThan(2000);
    for (const f of CARDIO_FEATURES) {
      const { beta, scale } = CARDIO_MODEL.terms[f];
      expect(Math.sign(coefficients[f]!), f).toBe(Math.sign(beta));
      // Per the model's unit (10 years, 20 mm[Hg], …): near the truth despite shifts, missingness and noise.
      expect(Math.abs(coefficients[f]! * scale - beta), f).toBeLessThan(0.3);
    }
  });
});
