import { describe, expect, it } from "vitest";
import { Cdm } from "./cdm.ts";
import { ICD10, ICD10_CM, icd10, LOINC, SNOMED_CT, snomed } from "./codes.ts";
import { subjectKey } from "./fhir-mapper.ts";
import { createFhirMapper, mapBundle, mapNdjson, mapResources } from "./map-bundle.ts";
import { codedObs, condition, patient, quantityObs } from "../../test/support/fhir.ts";
import { knownConversions } from "./units.ts";

const CHOL = "2093-3";
const HBA1C = "4548-4";
const SMOKING = "72166-2";
const chol = (aggregation: string) => ({
  name: `chol_${aggregation}`,
  type: "numeric",
  range: { min: 50, max: 600 },
  source: { kind: "observation", codes: [{ system: LOINC, code: CHOL }], unit: "mg/dL", conversions: knownConversions("cholesterol", "mg/dL"), window: { fromDays: -365, toDays: 0 }, aggregation },
});

const cdm = Cdm.parse({
  indexDate: "2024-01-01",
  features: [
    { name: "age", type: "numeric", source: { kind: "age" }, range: { min: 18, max: 110 } },
    { name: "sex", type: "categorical", source: { kind: "sex" }, levels: ["female", "male"] },
    { name: "male", type: "binary", source: { kind: "sex" }, levels: ["female", "male"] },
    ...["latest", "earliest", "mean", "min", "max", "count"].map(chol),
    {
      name: "smoker",
      type: "binary",
      source: { kind: "observation-coded", codes: [{ system: LOINC, code: SMOKING }], positive: [snomed("77176002")], negative: [snomed("8517006"), snomed("266919005")] },
    },
    { name: "diabetes", type: "binary", source: { kind: "condition", codes: [snomed("44054006"), ...icd10("E11")] } },
  ],
  label: { name: "event", kind: "condition", codes: [snomed("22298006"), ...icd10("I21"), ...icd10("I63")], window: { fromDays: 0, toDays: 365 } },
});

/** p1: three cholesterol readings in the year (one in mmol/L) and one older; p2: none; p3: a diabetes diagnosis after the index date. */
const resources = [
  quantityObs("Patient/p1", CHOL, "2023-09-01", 210, "mg/dL"),
  quantityObs("Patient/p1", CHOL, "2022-06-01", 300, "mg/dL"),
  patient("p1", "1960-06-15", "male"),
  quantityObs("Patient/p1", CHOL, "2023-03-01T08:00:00Z", 180, "mg/dL"),
  quantityObs("Patient/p1", CHOL, "2023-06-01", 5, "mmol/L"),
  patient("p2", "1990-01-01", "female"),
  patient("p3", "1944-02-29", "other"),
  codedObs("Patient/p1", SMOKING, "2022-03-01", "77176002"),
  codedObs("Patient/p1", SMOKING, "2023-03-01", "8517006"),
  codedObs("Patient/p2", SMOKING, "2023-03-01", "77176002"),
  condition("Patient/p1", SNOMED_CT, "44054006", "2015-05-01"),
  condition("Patient/p2", ICD10_CM, "E11.65", "2020-05-01"),
  condition("Patient/p3", ICD10, "E11.9", "2024-03-01"),
  condition("Patient/p1", SNOMED_CT, "22298006", "2024-05-01"),
  condition("Patient/p2", ICD10, "I21.4", "2023-05-01"),
  condition("Patient/p3", ICD10, "I63.9", "2024-12-30"),
];

const row = (table: { columns: readonly string[]; rows: readonly (readonly string[])[] }, i: number) => Object.fromEntries(table.columns.map((c, j) => [c, table.rows[i]![j]]));

describe("mapResources", () => {
  it("maps Patient age and sex, Observations with conversion and each aggregation, Conditions and the label", () => {
    // Execute
    const { table, patientIds, report } = mapResources(cdm, resources);

    // Assert: 5 mmol/L is 193.35 mg/dL; the 2022 reading is outside the window.
    expect(patientIds).toEqual(["p1", "p2", "p3"]);
    expect(table.columns).toEqual(["age", "sex", "male", "chol_latest", "chol_earliest", "chol_mean", "chol_min", "chol_max", "chol_count", "smoker", "diabetes", "event"]);
    expect(row(table, 0)).toEqual({ age: "63", sex: "male", male: "1", chol_latest: "210", chol_earliest: "180", chol_mean: "194.45", chol_min: "180", chol_max: "210", chol_count: "3", smoker: "0", diabetes: "1", event: "1" });
    expect(row(table, 1)).toEqual({ age: "34", sex: "female", male: "0", chol_latest: "", chol_earliest: "", chol_mean: "", chol_min: "", chol_max: "", chol_count: "0", smoker: "1", diabetes: "1", event: "0" });
    expect(row(table, 2)).toEqual({ age: "79", sex: "", male: "", chol_latest: "", chol_earliest: "", chol_mean: "", chol_min: "", chol_max: "", chol_count: "0", smoker: "", diabetes: "0", event: "1" });
    expect(report.features.chol_latest).toEqual({ present: 1, missing: 2, dropped: { "outside-window": 1 } });
    expect(report.features.sex).toEqual({ present: 2, missing: 1, dropped: { "out-of-range": 1 } });
    expect(report.features.diabetes).toEqual({ present: 3, missing: 0, dropped: { "outside-window": 1 } });
    expect(report.label).toEqual({ name: "event", positive: 2, negative: 1, missing: 0, dropped: { "outside-window": 1 } });
    expect(report.resources).toEqual({
      Observation: { read: 7, used: 6, dropped: { "outside-window": 1 } },
      Patient: { read: 3, used: 3, dropped: {} },
      Condition: { read: 6, used: 4, dropped: { "outside-window": 2 } },
    });
  });

  it("gives the same table whatever the order of the resources", () => {
    // Execute
    const forward = mapResources(cdm, resources);
    const backward = mapResources(cdm, [...resources].reverse());

    // Assert (rows follow the order Patients are read)
    const byId = (r: typeof forward) => Object.fromEntries(r.patientIds.map((id, i) => [id, r.table.rows[i]]));
    expect(byId(backward)).toEqual(byId(forward));
    expect(backward.report).toEqual(forward.report);
  });

  it.each([
    ["above", { above: 6.5 }, ["1", "0", ""]],
    ["below", { below: 6.5 }, ["0", "1", ""]],
  ])("labels by an Observation threshold (%s), converting units, missing without a reading", (_, threshold, expected) => {
    // Prepare: 44 mmol/mol is 6.18 %.
    const labelled = Cdm.parse({
      indexDate: "2024-01-01",
      features: [{ name: "age", type: "numeric", source: { kind: "age" }, range: { min: 0, max: 120 } }],
      label: { name: "diabetic", kind: "observation", codes: [{ system: LOINC, code: HBA1C }], unit: "%", conversions: knownConversions("hba1c", "%"), window: { fromDays: 0, toDays: 365 }, aggregation: "latest", ...threshold },
    });
    const input = [
      patient("a", "1970-01-01"),
      patient("b", "1970-01-01"),
      patient("c", "1970-01-01"),
      quantityObs("Patient/a", HBA1C, "2024-02-01", 5.9, "%"),
      quantityObs("Patient/a", HBA1C, "2024-06-01", 7.1, "%"),
      quantityObs("Patient/b", HBA1C, "2024-06-01", 44, "mmol/mol"),
      quantityObs("Patient/c", HBA1C, "2023-06-01", 9, "%"),
    ];

    // Execute
    const { table, report } = mapResources(labelled, input);

    // Assert
    expect(table.rows.map((r) => r[1])).toEqual(expected);
    expect(report.label.missing).toBe(1);
    expect(report.label.dropped).toEqual({ "outside-window": 1 });
  });
});

describe("mapBundle", () => {
  it("resolves urn:uuid, absolute and versioned references, whichever entry comes first", () => {
    // Prepare
    const bundle = {
      resourceType: "Bundle",
      type: "collection",
      entry: [
        { fullUrl: "urn:uuid:0000-1", resource: quantityObs("urn:uuid:0000-2", CHOL, "2023-05-01", 199, "mg/dL") },
        { fullUrl: "urn:uuid:0000-2", resource: patient("p1", "1950-01-01", "female") },
        { resource: quantityObs("https://hospital.invalid/fhir/Patient/p2/_history/3", CHOL, "2023-05-01", 201, "mg/dL") },
        { fullUrl: "https://hospital.invalid/fhir/Patient/p2", resource: patient("p2", "1950-01-01", "male") },
      ],
    };

    // Execute
    const parsed = mapBundle(cdm, bundle);
    const fromText = mapBundle(cdm, JSON.stringify(bundle, null, 2));

    // Assert
    expect(parsed.table.rows.map((r) => r[3])).toEqual(["199", "201"]);
    expect(parsed.report.resources.Observation).toEqual({ read: 2, used: 2, dropped: {} });
    expect(parsed.report.resources.Bundle).toEqual({ read: 1, used: 1, dropped: {} });
    expect(fromText).toEqual(parsed);
  });

  it.each([
    ["Patient/p1", "Patient/p1"],
    ["https://hospital.invalid/fhir/Patient/p1", "Patient/p1"],
    ["Patient/p1/_history/2", "Patient/p1"],
    ["urn:uuid:abc", "urn:uuid:abc"],
  ])("keys the reference %s as %s", (reference, key) => {
    expect(subjectKey(reference)).toBe(key);
  });
});

describe("mapNdjson", () => {
  const text = `${resources.map((r) => JSON.stringify(r)).join("\n")}\r\n\n`;

  it("maps NDJSON text line by line, the same as the resources", async () => {
    // Execute
    const mapped = await mapNdjson(cdm, text);

    // Assert
    expect(mapped).toEqual(mapResources(cdm, resources));
  });

  it("cuts byte chunks of any size into lines, including inside a multi-byte character", async () => {
    // Prepare
    const withUmlaut = text.replace('"status":"final"', '"status":"final","note":"Körpergewicht ✓"');
    const bytes = new TextEncoder().encode(withUmlaut);
    const chunks = (size: number) => Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
    async function* slowly(size: number) {
      for (const c of chunks(size)) yield c;
    }

    // Execute
    const results = await Promise.all([1, 7, 64, 4096].map((size) => mapNdjson(cdm, slowly(size))));

    // Assert
    for (const r of results) expect(r).toEqual(mapResources(cdm, resources));
  });

  it("reads several sources into one table (a site's Patient, Observation and Condition files)", async () => {
    // Prepare
    const of = (type: string) => resources.filter((r) => r.resourceType === type).map((r) => `${JSON.stringify(r)}\n`);

    // Execute
    const mapped = await mapNdjson(cdm, of("Condition"), of("Observation"), of("Patient"));

    // Assert
    expect(mapped.report.resources).toEqual(mapResources(cdm, resources).report.resources);
    expect(mapped.table.rows).toEqual(mapResources(cdm, resources).table.rows);
  });
});

describe("createFhirMapper", () => {
  it("refuses resources after finish, and a second finish", () => {
    // Prepare
    const mapper = createFhirMapper(cdm);
    mapper.add(patient("p1", "1960-01-01"));
    mapper.finish();

    // Execute and Assert
    expect(() => mapper.add(patient("p2"))).toThrow("the mapper has finished; create a new one for more resources");
    expect(() => mapper.finish()).toThrow("the mapper has finished already");
  });
});
