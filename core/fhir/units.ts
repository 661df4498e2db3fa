/**
 * @module
 * Unit conversions as a common data model declares them: `value in the feature's unit = value ×
 * factor + offset`, keyed by the unit a site sent (its UCUM code, else its display unit).
 */
import { z } from "zod";

export const UnitConversion = z.strictObject({
  /** The unit as a site sends it: a UCUM code ("mmol/L", "[degF]") or a display string ("°F"). */
  from: z.string().min(1),
  factor: z.number().finite().refine((f) => f !== 0, { message: "factor must not be 0" }),
  offset: z.number().finite().default(0),
});
export type UnitConversion = z.infer<typeof UnitConversion>;

/** Total cholesterol (also HDL and LDL), 386.65 g/mol: mg/dL per mmol/L. */
export const CHOLESTEROL_MG_DL_PER_MMOL_L = 38.67;
/** Glucose, 180.16 g/mol: mg/dL per mmol/L. */
export const GLUCOSE_MG_DL_PER_MMOL_L = 18.016;
/** The international avoirdupois pound, exactly. */
export const KG_PER_LB = 0.45359237;

/** Each analyte's units as `[factor, offset]` onto its first unit. */
const ANALYTES = {
  cholesterol: { "mg/dL": [1, 0], "mmol/L": [CHOLESTEROL_MG_DL_PER_MMOL_L, 0] },
  glucose: { "mg/dL": [1, 0], "mmol/L": [GLUCOSE_MG_DL_PER_MMOL_L, 0] },
  temperature: { Cel: [1, 0], "[degF]": [5 / 9, -160 / 9], K: [1, -273.15] },
  weight: { kg: [1, 0], "[lb_av]": [KG_PER_LB, 0], g: [0.001, 0] },
  height: { cm: [1, 0], "[in_i]": [2.54, 0], m: [100, 0] },
  /** HbA1c: NGSP % = 0.09148 × IFCC mmol/mol + 2.152 (the IFCC–NGSP master equation). */
  hba1c: { "%": [1, 0], "mmol/mol": [0.09148, 2.152] },
} as const satisfies Record<string, Record<string, readonly [number, number]>>;
export type Analyte = keyof typeof ANALYTES;
export type AnalyteUnit<A extends Analyte> = keyof (typeof ANALYTES)[A] & string;

/** Display spellings sites send in `Quantity.unit` when they leave out the UCUM code. */
const SYNONYMS: Record<string, readonly string[]> = {
  "mg/dL": ["mg/dl"],
  "mmol/L": ["mmol/l"],
  Cel: ["°C", "C", "degC"],
  "[degF]": ["°F", "F", "degF"],
  "[lb_av]": ["lb", "lbs"],
  "[in_i]": ["in"],
};

/**
 * The conversions from every other known unit of `analyte` (and their display spellings) to
 * `target`, ready to put in a feature's `conversions`.
 *
 * @example
 * knownConversions("cholesterol", "mg/dL"); // [{ from: "mmol/L", factor: 38.67, offset: 0 }, …]
 */
export function knownConversions<A extends Analyte>(analyte: A, target: AnalyteUnit<A>): UnitConversion[] {
  const units = ANALYTES[analyte] as Record<string, readonly [number, number]>;
  const [ft, ot] = units[target] ?? [1, 0];
  const out: UnitConversion[] = (SYNONYMS[target] ?? []).map((from) => ({ from, factor: 1, offset: 0 }));
  for (const [unit, [fu, ou]] of Object.entries(units)) {
    if (unit === target) continue;
    const conversion = { factor: fu / ft, offset: (ou - ot) / ft };
    out.push({ from: unit, ...conversion });
    for (const from of SYNONYMS[unit] ?? []) out.push({ from, ...conversion });
  }
  return out;
}

/**
 * `value` (in `unit`) in `target`, or undefined when no declared conversion applies. Units
 * compare exactly: UCUM is case-sensitive, so "mg/dl" converts only if it is declared.
 *
 * @example
 * convertUnit(5.17, "mmol/L", "mg/dL", knownConversions("cholesterol", "mg/dL")); // 199.92
 */
export function convertUnit(value: number, unit: string, target: string, conversions: readonly UnitConversion[]): number | undefined {
  if (unit === target) return value;
  for (const c of conversions) if (c.from === unit) return value * c.factor + c.offset;
  return undefined;
}
