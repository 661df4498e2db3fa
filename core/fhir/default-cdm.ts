/**
 * @module
 * The default CDM for the synthetic cohort: heart-disease-like inputs at an index date and a
 * cardiovascular event (myocardial infarction or stroke) within the year after it. The codes are
 * exported so that the synthetic cohort writes what this CDM reads.
 */
import { Cdm } from "./cdm.ts";
import { ICD10, icd10, LOINC, SNOMED_CT, snomed } from "./codes.ts";
import { knownConversions } from "./units.ts";

export const CODES = {
  systolic: { system: LOINC, code: "8480-6", display: "Systolic blood pressure" },
  /** Cholesterol [Mass/volume] in Serum or Plasma. */
  cholesterolMass: { system: LOINC, code: "2093-3", display: "Cholesterol [Mass/volume] in Serum or Plasma" },
  /** Cholesterol [Moles/volume] in Serum or Plasma: what a site reporting mmol/L should send. */
  cholesterolMoles: { system: LOINC, code: "14647-2", display: "Cholesterol [Moles/volume] in Serum or Plasma" },
  hba1c: { system: LOINC, code: "4548-4", display: "Hemoglobin A1c/Hemoglobin.total in Blood" },
  /** The same, IFCC protocol (mmol/mol). */
  hba1cIfcc: { system: LOINC, code: "59261-8", display: "Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol" },
  bmi: { system: LOINC, code: "39156-5", display: "Body mass index (BMI) [Ratio]" },
  smoking: { system: LOINC, code: "72166-2", display: "Tobacco smoking status" },
  /** Not in the CDM: readings every export carries that the mapper counts as unknown codes. */
  heartRate: { system: LOINC, code: "8867-4", display: "Heart rate" },
  smoker: { system: SNOMED_CT, code: "77176002", display: "Smoker" },
  exSmoker: { system: SNOMED_CT, code: "8517006", display: "Ex-smoker" },
  neverSmoker: { system: SNOMED_CT, code: "266919005", display: "Never smoked tobacco" },
  diabetesSnomed: { system: SNOMED_CT, code: "44054006", display: "Diabetes mellitus type 2" },
  diabetesIcd10: { system: ICD10, code: "E11.9", display: "Type 2 diabetes mellitus without complications" },
  infarctionSnomed: { system: SNOMED_CT, code: "22298006", display: "Myocardial infarction" },
  infarctionIcd10: { system: ICD10, code: "I21.9", display: "Acute myocardial infarction, unspecified" },
} as const;

const lastYear = { fromDays: -365, toDays: 0 };
const code = (c: { system: string; code: string }) => ({ system: c.system, code: c.code });

export const defaultCdm: Cdm = Cdm.parse({
  name: "cardio-v1",
  indexDate: "2024-01-01",
  features: [
    { name: "age", type: "numeric", source: { kind: "age" }, range: { min: 18, max: 110 } },
    { name: "male", type: "binary", source: { kind: "sex" }, levels: ["female", "male"] },
    {
      name: "sbp",
      description: "systolic blood pressure, mean of the last year's readings (mm[Hg])",
      type: "numeric",
      source: { kind: "observation", codes: [code(CODES.systolic)], unit: "mm[Hg]", window: lastYear, aggregation: "mean" },
      range: { min: 60, max: 260 },
    },
    {
      name: "chol",
      description: "total cholesterol, latest in the last year (mg/dL)",
      type: "numeric",
      source: { kind: "observation", codes: [code(CODES.cholesterolMass), code(CODES.cholesterolMoles)], unit: "mg/dL", conversions: knownConversions("cholesterol", "mg/dL"), window: lastYear, aggregation: "latest" },
      range: { min: 50, max: 600 },
    },
    {
      name: "hba1c",
      description: "HbA1c, latest in the last year (NGSP %)",
      type: "numeric",
      source: { kind: "observation", codes: [code(CODES.hba1c), code(CODES.hba1cIfcc)], unit: "%", conversions: knownConversions("hba1c", "%"), window: lastYear, aggregation: "latest" },
      range: { min: 3, max: 20 },
    },
    {
      name: "bmi",
      description: "body mass index, latest in the last year (kg/m2)",
      type: "numeric",
      source: { kind: "observation", codes: [code(CODES.bmi)], unit: "kg/m2", window: lastYear, aggregation: "latest" },
      range: { min: 10, max: 80 },
    },
    {
      name: "smoker",
      description: "current smoker at the latest smoking-status answer of the last two years",
      type: "binary",
      source: {
        kind: "observation-coded",
        codes: [code(CODES.smoking)],
        positive: [code(CODES.smoker), snomed("449868002"), snomed("65568007"), snomed("428041000124106")],
        negative: [code(CODES.exSmoker), code(CODES.neverSmoker)],
        window: { fromDays: -730, toDays: 0 },
      },
    },
    {
      name: "diabetes",
      description: "diabetes mellitus diagnosed before the index date (SNOMED CT or ICD-10 E10–E14)",
      type: "binary",
      source: { kind: "condition", codes: [code(CODES.diabetesSnomed), snomed("73211009"), snomed("46635009"), ...["E10", "E11", "E13", "E14"].flatMap(icd10)] },
    },
  ],
  label: {
    name: "cvd_event",
    kind: "condition",
    codes: [code(CODES.infarctionSnomed), snomed("230690007"), snomed("401303003"), snomed("401314000"), ...["I21", "I22", "I63", "I64"].flatMap(icd10)],
    window: { fromDays: 0, toDays: 365 },
  },
});
