/**
 * @module
 * The common data model: how a consortium maps FHIR R4 resources onto its features and label. A
 * site's Patient, Observation and Condition resources become one row per patient, with each
 * feature computed relative to one index date. It is a JSON document (validated here) so that
 * every site maps the same way; `cdmToFeatureSpec` hands the result to the usual preprocessing.
 *
 * @example
 * const cdm = Cdm.parse({
 *   indexDate: "2024-01-01",
 *   features: [
 *     { name: "age", type: "numeric", source: { kind: "age" }, range: { min: 18, max: 110 } },
 *     { name: "chol", type: "numeric", range: { min: 50, max: 600 },
 *       source: { kind: "observation", codes: [{ system: "http://loinc.org", code: "2093-3" }],
 *                 unit: "mg/dL", conversions: [{ from: "mmol/L", factor: 38.67 }],
 *                 window: { fromDays: -365, toDays: 0 }, aggregation: "latest" } },
 *   ],
 *   label: { kind: "condition", codes: [{ system: "http://snomed.info/sct", code: "22298006" }],
 *            window: { fromDays: 0, toDays: 365 } },
 * });
 */
import { z } from "zod";
import type { FeatureSpec } from "../schemas/feature-spec.ts";
import { CodeMatch } from "./codes.ts";
import { UnitConversion } from "./units.ts";

/**
 * Days relative to the index date, both ends inclusive; an absent end is unbounded. A feature's
 * default is "anything up to the index date", so that no feature reads the future by accident.
 */
export const Window = z
  .strictObject({ fromDays: z.number().finite().optional(), toDays: z.number().finite().optional() })
  .refine((w) => w.fromDays === undefined || w.toDays === undefined || w.fromDays <= w.toDays, { message: "window fromDays must not exceed toDays" });
export type Window = z.infer<typeof Window>;

/** How the readings in a window become one value; `count` is 0, never missing, without readings. */
export const Aggregation = z.enum(["latest", "earliest", "mean", "min", "max", "count"]);
export type Aggregation = z.infer<typeof Aggregation>;

const Codes = z.array(CodeMatch).min(1);
const PAST = { toDays: 0 };

/** Age in completed years at the index date, from `Patient.birthDate`. */
export const AgeSource = z.strictObject({ kind: z.literal("age") });
/** `Patient.gender` (male, female, other, unknown). */
export const SexSource = z.strictObject({ kind: z.literal("sex") });

/** A numeric Observation (`valueQuantity`) by code, converted to `unit`, aggregated over a window. */
export const QuantitySource = z.strictObject({
  kind: z.literal("observation"),
  codes: Codes,
  /** The feature's unit: a UCUM code, compared with `valueQuantity.code`, else `.unit`. */
  unit: z.string().min(1),
  conversions: z.array(UnitConversion).default([]),
  window: Window.default(PAST),
  aggregation: Aggregation.default("latest"),
});
export type QuantitySource = z.infer<typeof QuantitySource>;

/** A coded Observation (`valueCodeableConcept`, e.g. smoking status): 1 when its latest answer is positive. */
export const CodedSource = z.strictObject({
  kind: z.literal("observation-coded"),
  codes: Codes,
  positive: Codes,
  /** Answers that mean 0; an answer in neither set is counted as an unknown code. */
  negative: Codes,
  window: Window.default(PAST),
});
export type CodedSource = z.infer<typeof CodedSource>;

/** Presence of a Condition in a code set (SNOMED CT and/or ICD-10) with onset in a window. */
export const ConditionSource = z.strictObject({ kind: z.literal("condition"), codes: Codes, window: Window.default(PAST) });
export type ConditionSource = z.infer<typeof ConditionSource>;

const base = { name: z.string().min(1), description: z.string().optional() };

export const NumericFeature = z.strictObject({
  ...base,
  type: z.literal("numeric"),
  source: z.discriminatedUnion("kind", [AgeSource, QuantitySource]),
  /** Allowed values, both ends inclusive; a reading outside is dropped and counted. */
  range: z.strictObject({ min: z.number().finite(), max: z.number().finite() }).refine((r) => r.min <= r.max, { message: "range min must not exceed max" }),
  /** What stands in for a missing value: the consortium's mean (default) or median. */
  impute: z.enum(["mean", "median"]).optional(),
});

const GENDERS = ["male", "female", "other", "unknown"] as const;

export const CategoricalFeature = z.strictObject({
  ...base,
  type: z.literal("categorical"),
  source: SexSource,
  /** Allowed levels; any other value is missing and counted as out of range. */
  levels: z.array(z.enum(GENDERS)).min(1),
});

export const BinaryFeature = z
  .strictObject({
    ...base,
    type: z.literal("binary"),
    source: z.discriminatedUnion("kind", [SexSource, CodedSource, ConditionSource]),
    /** For `sex`: the level read as 0, then the one read as 1. */
    levels: z.tuple([z.enum(GENDERS), z.enum(GENDERS)]).optional(),
  })
  .refine((f) => (f.source.kind === "sex") === (f.levels !== undefined), { message: "a binary sex feature needs levels [level0, level1]; other binary features take none" });

export const CdmFeature = z.discriminatedUnion("type", [NumericFeature, CategoricalFeature, BinaryFeature]);
export type CdmFeature = z.infer<typeof CdmFeature>;

/** The label is 1 when a Condition in the code set has its onset inside the window (else 0). */
export const ConditionLabel = z.strictObject({
  name: z.string().min(1).default("label"),
  kind: z.literal("condition"),
  codes: Codes,
  window: Window,
});

/** The label is 1 when the aggregated Observation is above (or below) a threshold; missing without one. */
export const ObservationLabel = z
  .strictObject({
    name: z.string().min(1).default("label"),
    kind: z.literal("observation"),
    codes: Codes,
    unit: z.string().min(1),
    conversions: z.array(UnitConversion).default([]),
    window: Window,
    aggregation: Aggregation.default("latest"),
    range: z.strictObject({ min: z.number().finite(), max: z.number().finite() }).optional(),
    above: z.number().finite().optional(),
    below: z.number().finite().optional(),
  })
  .refine((l) => (l.above === undefined) !== (l.below === undefined), { message: "an observation label needs exactly one of above or below" });

export const CdmLabel = z.discriminatedUnion("kind", [ConditionLabel, ObservationLabel]);
export type CdmLabel = z.infer<typeof CdmLabel>;

const OBSERVATION_STATUS = ["registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"] as const;

export const Cdm = z
  .strictObject({
    name: z.string().min(1).optional(),
    /** The index date every age and window is relative to (a FHIR date, read as midnight UTC). */
    indexDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: "indexDate must be YYYY-MM-DD" }),
    features: z.array(CdmFeature).min(1),
    label: CdmLabel,
    /** Observations in any other status are dropped and counted as `excluded-status`. */
    observationStatus: z.array(z.enum(OBSERVATION_STATUS)).min(1).default(["final", "amended", "corrected"]),
  })
  .superRefine((c, ctx) => {
    const names = [...c.features.map((f) => f.name), c.label.name];
    if (new Set(names).size !== names.length) ctx.addIssue({ code: "custom", path: ["features"], message: "feature and label names must be unique" });
    if (Number.isNaN(Date.parse(c.indexDate))) ctx.addIssue({ code: "custom", path: ["indexDate"], message: "indexDate is not a date" });
  });
export type Cdm = z.infer<typeof Cdm>;
/** A CDM as written by hand or read from JSON, before defaults are filled in. */
export type CdmInput = z.input<typeof Cdm>;

/**
 * The FeatureSpec for a table this CDM produced: binary features are numeric 0/1 (as `sex` and
 * `fbs` are in heart-disease), numeric ones keep their allowed range (histograms, medians) and
 * imputation, the label's positive value is "1", and missing cells are empty.
 */
export function cdmToFeatureSpec(cdm: Cdm): FeatureSpec {
  return {
    features: cdm.features.map((f) => {
      const base = { name: f.name, column: f.name, type: f.type === "categorical" ? ("categorical" as const) : ("numeric" as const), missing: [] };
      // What the model allows bounds every mapped value: histograms span the range, noisy statistics need it.
      if (f.type === "categorical") return { ...base, levels: [...f.levels] };
      if (f.type === "binary") return { ...base, range: { min: 0, max: 1 }, bins: 2 };
      if (f.range.min === f.range.max) return base;
      return { ...base, range: f.range, ...(f.impute && { impute: f.impute }) };
    }),
    label: { column: cdm.label.name, positive: ["1"] },
    missingTokens: [""],
  };
}
