import { describe, expect, it } from "vitest";
import { FeatureSpec } from "../schemas/feature-spec.ts";
import { Cdm, cdmToFeatureSpec, type CdmInput } from "./cdm.ts";
import { LOINC, SNOMED_CT } from "./codes.ts";
import { defaultCdm } from "./default-cdm.ts";

const minimal: CdmInput = {
  indexDate: "2024-01-01",
  features: [
    { name: "age", type: "numeric", source: { kind: "age" }, range: { min: 18, max: 110 } },
    { name: "chol", type: "numeric", range: { min: 50, max: 600 }, source: { kind: "observation", codes: [{ system: LOINC, code: "2093-3" }], unit: "mg/dL", conversions: [{ from: "mmol/L", factor: 38.67 }] } },
  ],
  label: { kind: "condition", codes: [{ system: SNOMED_CT, code: "22298006" }], window: { fromDays: 0, toDays: 365 } },
};

const issues = (input: unknown) => {
  const r = Cdm.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => i.message);
};

describe("Cdm", () => {
  it("fills in the defaults: a past-only window, latest, label name, accepted statuses", () => {
    // Execute
    const cdm = Cdm.parse(minimal);

    // Assert
    expect(cdm.features[1]).toMatchObject({ source: { window: { toDays: 0 }, aggregation: "latest", conversions: [{ from: "mmol/L", factor: 38.67, offset: 0 }] } });
    expect(cdm.label.name).toBe("label");
    expect(cdm.observationStatus).toEqual(["final", "amended", "corrected"]);
  });

  it("parses the default CDM from its own JSON", () => {
    expect(Cdm.parse(JSON.parse(JSON.stringify(defaultCdm)))).toEqual(defaultCdm);
  });

  it.each([
    ["duplicate names", { ...minimal, features: [minimal.features[0], minimal.features[0]] }, "feature and label names must be unique"],
    ["a label named like a feature", { ...minimal, label: { ...minimal.label, name: "age" } }, "feature and label names must be unique"],
    ["a reversed window", { ...minimal, label: { ...minimal.label, window: { fromDays: 10, toDays: 0 } } }, "window fromDays must not exceed toDays"],
    ["a reversed range", { ...minimal, features: [{ ...minimal.features[0], range: { min: 5, max: 1 } }] }, "range min must not exceed max"],
    ["a binary sex without levels", { ...minimal, features: [{ name: "male", type: "binary", source: { kind: "sex" } }] }, "a binary sex feature needs levels [level0, level1]; other binary features take none"],
    ["an observation label with both thresholds", { ...minimal, label: { kind: "observation", codes: [{ system: LOINC, code: "4548-4" }], unit: "%", window: { toDays: 365 }, above: 6.5, below: 4 } }, "an observation label needs exactly one of above or below"],
    ["an index date that is not YYYY-MM-DD", { ...minimal, indexDate: "1/1/2024" }, "indexDate must be YYYY-MM-DD"],
  ])("refuses %s", (_, input, message) => {
    expect(issues(input)).toContain(message);
  });

  it("refuses an age feature typed categorical, and an unknown key", () => {
    expect(issues({ ...minimal, features: [{ name: "age", type: "categorical", source: { kind: "age" }, levels: ["male"] }] }).length).toBeGreaterThan(0);
    expect(issues({ ...minimal, extra: 1 }).length).toBeGreaterThan(0);
  });
});

describe("cdmToFeatureSpec", () => {
  it("carries a numeric feature's median imputation, with its range for the sites' histograms", () => {
    // Prepare
    const cdm = Cdm.parse({ ...minimal, features: [minimal.features[0], { ...minimal.features[1], impute: "median" }] });

    // Execute
    const spec = cdmToFeatureSpec(cdm);

    // Assert
    expect(FeatureSpec.parse(spec)).toEqual(spec);
    expect(spec.features[1]).toEqual({ name: "chol", column: "chol", type: "numeric", missing: [], range: { min: 50, max: 600 }, impute: "median" });
  });

  it("gives the preprocessing a valid FeatureSpec: binaries numeric, label positive 1, empty cells missing", () => {
    // Execute
    const spec = cdmToFeatureSpec(defaultCdm);

    // Assert
    expect(FeatureSpec.parse(spec)).toEqual(spec);
    expect(spec.features.map((f) => [f.name, f.type])).toEqual([
      ["age", "numeric"], ["male", "numeric"], ["sbp", "numeric"], ["chol", "numeric"], ["hba1c", "numeric"], ["bmi", "numeric"], ["smoker", "numeric"], ["diabetes", "numeric"],
    ]);
    expect(spec.features.find((f) => f.name === "chol")).toEqual({ name: "chol", column: "chol", type: "numeric", missing: [], range: { min: 50, max: 600 } });
    expect(spec.label).toEqual({ column: "cvd_event", positive: ["1"] });
    expect(spec.missingTokens).toEqual([""]);
  });
});
