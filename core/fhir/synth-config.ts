/**
 * @module
 * How a synthetic FHIR cohort differs between hospitals: each site's age mix, sex and smoking
 * mix, label prevalence (an offset on the outcome's log-odds), measurement shifts, the units it
 * records (including a planted unit error), missingness, label noise and the noise every export
 * carries (readings the CDM does not use, readings outside the window, events before the index).
 */
import { z } from "zod";

const probability = z.number().min(0).max(1);
const perFeature = <T extends z.ZodType>(t: T) => z.strictObject({ sbp: t.optional(), chol: t.optional(), hba1c: t.optional(), bmi: t.optional() });

export const SiteProfile = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: "site name must be a plain file name" }),
  /** Relative share of the cohort's patients. */
  share: z.number().positive().default(1),
  age: z.strictObject({ mean: z.number().min(18).max(95), sd: z.number().nonnegative() }).default({ mean: 58, sd: 11 }),
  maleFraction: probability.default(0.5),
  smokerFraction: probability.default(0.2),
  /** Added to the outcome's log-odds: the site's label prevalence beyond its case mix. */
  riskOffset: z.number().finite().default(0),
  /** Added to every recorded value, in the CDM's unit (a miscalibrated device, a lab's bias). */
  shift: perFeature(z.number().finite()).default({}),
  /**
   * "mmol/L": cholesterol sent correctly in mmol/L (LOINC 14647-2); "mmol/L-as-mg/dL": the planted
   * unit error, mmol/L values sent as LOINC 2093-3 with unit mg/dL (38.67× too small).
   */
  cholesterolUnit: z.enum(["mg/dL", "mmol/L", "mmol/L-as-mg/dL"]).default("mg/dL"),
  /** "mmol/mol": HbA1c sent in IFCC units (LOINC 59261-8). */
  hba1cUnit: z.enum(["%", "mmol/mol"]).default("%"),
  /** How the site codes diabetes and the outcome: SNOMED CT or ICD-10. */
  coding: z.enum(["snomed", "icd10"]).default("snomed"),
  /** Probability that a patient has no reading of that kind at all (smoking: no status answer). */
  missing: perFeature(probability).extend({ smoking: probability.optional() }).default({}),
  /** Probability that the recorded outcome is flipped. */
  labelNoise: z.number().min(0).max(0.5).default(0),
  /** Mean number of heart-rate readings per patient: not in the CDM, counted as unknown codes. */
  otherObservations: z.number().nonnegative().max(20).default(0.5),
  /** Probability of an old systolic reading (400–900 days back): outside the window. */
  oldReadings: probability.default(0.3),
  /** Probability of a cardiovascular event before the index date: outside the label's window. */
  priorEvents: probability.default(0.05),
});
export type SiteProfile = z.infer<typeof SiteProfile>;
export type SiteProfileInput = z.input<typeof SiteProfile>;

export const SynthConfig = z
  .strictObject({
    seed: z.number().int(),
    /** Patients in the whole cohort, shared among the sites by `share`. */
    patients: z.number().int().positive(),
    indexDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).default("2024-01-01"),
    /** A patient's event, when there is one, falls within this many days after the index date (the label's window). */
    eventWithinDays: z.int().min(1).max(364).default(364),
    /** Put before every resource id: patients of different exports (a month's) keep distinct ids. */
    idPrefix: z.string().regex(/^[A-Za-z0-9._-]*$/).max(32).default(""),
    sites: z.array(SiteProfile).min(1),
  })
  .refine((c) => new Set(c.sites.map((s) => s.name)).size === c.sites.length, { message: "site names must be unique" })
  .refine((c) => c.patients >= c.sites.length, { message: "need at least one patient per site" });
export type SynthConfig = z.infer<typeof SynthConfig>;
export type SynthConfigInput = z.input<typeof SynthConfig>;

/**
 * `n` sites that differ deterministically: ages from a mean of 48 to 68, sizes from 0.5 to 1.5
 * shares, log-odds offsets spread over ±0.6 (low and high sites alternating), an SBP shift of +8 mm[Hg] at every fourth site,
 * the planted cholesterol unit error at the second site, correct mmol/L cholesterol at the third
 * (and every fifth after), IFCC HbA1c at every third site from the third, ICD-10 coding at every
 * other site, missingness rising with the site number, and 5% label noise at every fifth site.
 *
 * @example
 * SynthConfig.parse({ seed: 1, patients: 500_000, sites: defaultSiteProfiles(20) });
 */
export function defaultSiteProfiles(n: number): SiteProfileInput[] {
  return Array.from({ length: n }, (_, k) => {
    const t = n === 1 ? 0.5 : k / (n - 1);
    // Ranks 0, n−1, 1, n−2, …: low- and high-prevalence sites alternate.
    const rank = k % 2 === 0 ? k / 2 : n - 1 - (k - 1) / 2;
    return {
      name: `site-${String(k + 1).padStart(2, "0")}`,
      share: 0.5 + ((k * 7) % 5) / 4,
      age: { mean: 48 + 20 * t, sd: 9 + 2 * (k % 3) },
      maleFraction: 0.42 + (0.16 * ((k * 5) % 4)) / 3,
      smokerFraction: 0.12 + (0.16 * ((k * 3) % 5)) / 4,
      riskOffset: n === 1 ? 0 : -0.6 + (1.2 * rank) / (n - 1),
      shift: k % 4 === 3 ? { sbp: 8 } : {},
      cholesterolUnit: k === 1 ? "mmol/L-as-mg/dL" : k % 5 === 2 ? "mmol/L" : "mg/dL",
      hba1cUnit: k % 3 === 2 ? "mmol/mol" : "%",
      coding: k % 2 === 1 ? "icd10" : "snomed",
      missing: { sbp: 0.05 + 0.05 * (k % 3), chol: 0.1 + 0.1 * (k % 4), hba1c: 0.2 + 0.05 * (k % 5), bmi: 0.05, smoking: 0.1 },
      labelNoise: k % 5 === 4 ? 0.05 : 0,
    };
  });
}
