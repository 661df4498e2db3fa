import { describe, expect, it } from "vitest";
import { CodeIndex, ICD10, ICD10_CM, icd10, inCodeSet, LOINC, loinc, SNOMED_CT, snomed } from "./codes.ts";

describe("CodeIndex", () => {
  it("matches exact codes by system and code, and prefixes by system", () => {
    // Prepare
    const index = new CodeIndex();
    index.add(0, [loinc("2093-3"), loinc("14647-2")]);
    index.add(1, [snomed("22298006"), ...icd10("I21")]);
    index.add(2, [loinc("2093-3")]);

    // Execute and Assert
    expect(index.match([{ system: LOINC, code: "2093-3" }])).toEqual([0, 2]);
    expect(index.match([{ system: LOINC, code: "14647-2" }])).toEqual([0]);
    expect(index.match([{ system: ICD10, code: "I21.9" }])).toEqual([1]);
    expect(index.match([{ system: ICD10_CM, code: "I214" }])).toEqual([1]);
    expect(index.match([{ system: ICD10, code: "I22.0" }])).toEqual([]);
    expect(index.match([{ system: SNOMED_CT, code: "2093-3" }])).toEqual([]);
    expect(index.match([{ code: "2093-3" }, { system: SNOMED_CT, code: "22298006" }])).toEqual([1]);
    expect(index.match(undefined)).toEqual([]);
  });

  it("answers set membership for one code set", () => {
    expect(inCodeSet([{ system: ICD10, code: "E11.9" }], icd10("E11"))).toBe(true);
    expect(inCodeSet([{ system: ICD10, code: "E10.9" }], icd10("E11"))).toBe(false);
  });
});
