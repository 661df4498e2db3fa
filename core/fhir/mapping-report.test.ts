import { describe, expect, it } from "vitest";
import { LOINC, SNOMED_CT } from "./codes.ts";
import { CODES, defaultCdm } from "./default-cdm.ts";
import { createFhirMapper } from "./fhir-mapper.ts";
import { MappingReport } from "./mapping-report.ts";
import { condition, patient, quantityObs } from "../../test/support/fhir.ts";

const CHOL = CODES.cholesterolMass.code;
const P = "Patient/p1";

/** One resource per way of not being mapped, beside one of each that is. */
function mapAll() {
  const mapper = createFhirMapper(defaultCdm);
  const { status: _, ...noStatus } = quantityObs(P, CHOL, "2023-06-01", 200, "mg/dL");
  const resources: unknown[] = [
    patient("p1", "1960-01-01", "male"),
    patient("p1", "1961-01-01", "female"), // duplicate-patient
    { resourceType: "Patient" }, // invalid-resource: no id
    patient("p2", "1960-13-01"), // invalid-resource: not a date
    patient("p3", undefined, "other"), // used; age missing, sex out of range
    quantityObs(P, CHOL, "2023-06-01", 200, "mg/dL"), // used
    quantityObs(P, "8867-4", "2023-06-01", 70, "/min"), // unknown-code
    quantityObs(P, CHOL, "2023-06-01", 200, "mg/dL", { status: "entered-in-error" }), // excluded-status
    quantityObs(P, CHOL, "2023-06-01", undefined, undefined), // missing-value
    quantityObs(P, CHOL, "2023-06-01", 100, "mg/dL", { valueQuantity: { value: 100, comparator: "<", unit: "mg/dL" } }), // censored-value
    quantityObs(P, CHOL, undefined, 200, "mg/dL"), // missing-date
    quantityObs(P, CHOL, "2023-06-01", 2, "g/L"), // unit-not-convertible
    quantityObs(P, CHOL, "2023-06-01", 5.2, "mg/dL"), // out-of-range (mmol/L sent as mg/dL)
    quantityObs(P, CHOL, "2020-06-01", 200, "mg/dL"), // outside-window
    quantityObs("Patient/nobody", CHOL, "2023-06-01", 200, "mg/dL"), // unknown-patient (no such Patient)
    { ...quantityObs(P, CHOL, "2023-06-01", 200, "mg/dL"), subject: undefined }, // unknown-patient (no subject)
    noStatus, // invalid-resource: status is required
    quantityObs(P, CHOL, "2023-06-01T10:00:00", 200, "mg/dL"), // invalid-resource: time without zone
    condition(P, SNOMED_CT, "44054006", "2010-01-01"), // used
    condition(P, SNOMED_CT, "38341003", "2010-01-01"), // unknown-code (hypertension)
    condition(P, SNOMED_CT, "44054006", "2010-01-01", { verificationStatus: { coding: [{ code: "refuted" }] } }), // excluded-status
    condition(P, SNOMED_CT, "44054006", undefined), // missing-date
    condition(P, SNOMED_CT, "44054006", "2024-06-01"), // outside-window
    condition("Patient/nobody", SNOMED_CT, "22298006", "2024-06-01"), // unknown-patient
    { resourceType: "Condition", code: { coding: [{ system: SNOMED_CT, code: "44054006" }] } }, // invalid-resource: no subject
    { resourceType: "Encounter", id: "e1" }, // unsupported-type
    42, // invalid-resource (unknown)
    { resourceType: "Bundle", entry: "no" }, // invalid-resource (Bundle)
  ];
  for (const r of resources) mapper.add(r);
  mapper.addLine("{not json");
  mapper.addLine("   ");
  return mapper.finish();
}

describe("the mapping report", () => {
  it("counts every resource that cannot be mapped, under its reason", () => {
    // Execute
    const { report } = mapAll();

    // Assert
    expect(report.resources).toEqual({
      Patient: { read: 5, used: 2, dropped: { "duplicate-patient": 1, "invalid-resource": 2 } },
      Observation: {
        read: 13,
        used: 1,
        dropped: {
          "unknown-code": 1,
          "excluded-status": 1,
          "missing-value": 1,
          "censored-value": 1,
          "missing-date": 1,
          "unit-not-convertible": 1,
          "out-of-range": 1,
          "outside-window": 1,
          "unknown-patient": 2,
          "invalid-resource": 2,
        },
      },
      Condition: { read: 7, used: 1, dropped: { "unknown-code": 1, "excluded-status": 1, "missing-date": 1, "outside-window": 1, "unknown-patient": 1, "invalid-resource": 1 } },
      Encounter: { read: 1, used: 0, dropped: { "unsupported-type": 1 } },
      unknown: { read: 2, used: 0, dropped: { "invalid-resource": 2 } },
      Bundle: { read: 1, used: 0, dropped: { "invalid-resource": 1 } },
    });
  });

  it("reads every resource as used or dropped for one reason (read = used + Σ dropped)", () => {
    // Execute
    const { report } = mapAll();

    // Assert
    for (const counts of Object.values(report.resources)) {
      expect(counts.used + Object.values(counts.dropped).reduce((a, b) => a + b, 0)).toBe(counts.read);
    }
  });

  it("counts, per feature, the readings it refused and the rows it has no value for", () => {
    // Execute
    const { report, table } = mapAll();

    // Assert
    expect(table.rows).toHaveLength(2);
    expect(report.features.chol).toEqual({
      present: 1,
      missing: 1,
      dropped: { "missing-value": 1, "censored-value": 1, "unit-not-convertible": 1, "out-of-range": 1, "outside-window": 1 },
      // The one out-of-range reading, in mg/dL: what a unit error would show.
      outOfRangeMean: 5.2,
    });
    expect(report.features.age).toEqual({ present: 1, missing: 1, dropped: { "missing-value": 1 } });
    expect(report.features.male).toEqual({ present: 1, missing: 1, dropped: { "out-of-range": 1 } });
    expect(report.features.diabetes).toEqual({ present: 2, missing: 0, dropped: { "outside-window": 1 } });
  });

  it("is a valid MappingReport (the wire format)", () => {
    // Execute
    const { report } = mapAll();

    // Assert
    expect(MappingReport.parse(JSON.parse(JSON.stringify(report)))).toEqual(report);
  });

  it("counts an Observation whose codes feed several features once, as used if any feature took it", () => {
    // Prepare: cholesterol read by two features, one with a narrower window.
    const two = { ...defaultCdm, features: [...defaultCdm.features, { ...defaultCdm.features[3]!, name: "chol_recent", source: { ...(defaultCdm.features[3]!.source as object), window: { fromDays: -30, toDays: 0 } } }] } as typeof defaultCdm;
    const mapper = createFhirMapper(two);
    mapper.add(patient("p1", "1960-01-01", "male"));
    mapper.add(quantityObs(P, CHOL, "2023-06-01", 200, "mg/dL"));
    mapper.add({ ...quantityObs(P, CHOL, "2023-06-01", 200, "mg/dL"), code: { coding: [{ system: LOINC, code: CHOL }, { system: LOINC, code: CODES.cholesterolMoles.code }] } });

    // Execute
    const { report } = mapper.finish();

    // Assert
    expect(report.resources.Observation).toEqual({ read: 2, used: 2, dropped: {} });
    expect(report.features.chol_recent?.dropped).toEqual({ "outside-window": 2 });
  });
});
