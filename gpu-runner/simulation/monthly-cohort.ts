/**
 * @module
 * A simulated consortium over time: each hospital admits patients month by month, with planted
 * drifts from a given month (a population shift, a unit error in one feature, a change of
 * prevalence). The outcome follows one known logistic model of the true values at every hospital
 * and month, so a model trained on the true values stays right when the population shifts, and a
 * unit error (the values recorded in another unit, labelled as before) is a data problem, not a
 * change in medicine. Seeded: the same options give the same rows.
 */
import { z } from "zod";
import type { Table } from "../../core/preprocess/table.ts";
import { seededRandom, standardNormal } from "../../core/random.ts";
import { FeatureSpec } from "../../core/schemas/feature-spec.ts";
import type { MonthlyData } from "../data/monthly-fhir.ts";

/** The consortium's data model: age, cholesterol (mg/dL), systolic pressure, smoking, and a 0/1 event. */
export const cohortSpec: FeatureSpec = FeatureSpec.parse({
  label: { column: "event", positive: ["1"] },
  features: [
    { name: "age", column: "age", type: "numeric", range: { min: 18, max: 100 } },
    { name: "chol", column: "chol", type: "numeric", range: { min: 100, max: 400 }, unit: "mg/dL" },
    { name: "sbp", column: "sbp", type: "numeric", range: { min: 80, max: 230 } },
    { name: "smoker", column: "smoker", type: "categorical", levels: ["no", "yes"] },
  ],
});

const COLUMNS = ["age", "chol", "sbp", "smoker", "event"];

/** A drift planted at one hospital (0-based) from a month on. */
export const PlantedDrift = z.discriminatedUnion("kind", [
  /** Older (or younger) patients: the mean age moves by `years`. */
  z.object({ kind: z.literal("shift"), site: z.int().min(0), from: z.int().min(1), years: z.number() }),
  /** Cholesterol recorded in mmol/L but labelled mg/dL. */
  z.object({ kind: z.literal("unit"), site: z.int().min(0), from: z.int().min(1) }),
  /** The event's base rate moves by `logOdds`. */
  z.object({ kind: z.literal("prevalence"), site: z.int().min(0), from: z.int().min(1), logOdds: z.number() }),
]);
export type PlantedDrift = z.infer<typeof PlantedDrift>;

/**
 * `unit:SITE@MONTH`, `shift:SITE@MONTH:YEARS`, `prevalence:SITE@MONTH:LOGODDS`, comma-separated;
 * sites are 1-based, as the simulator names them.
 *
 * @example
 * parseDrifts("unit:3@6,shift:5@4:8"); // cholesterol in mmol/L at site 3 from month 6, patients 8 years older at site 5 from month 4
 */
export function parseDrifts(text: string): PlantedDrift[] {
  if (text.trim() === "") return [];
  return text.split(",").map((part) => {
    const m = /^(unit|shift|prevalence):(\d+)@(\d+)(?::(-?\d+(?:\.\d+)?))?$/.exec(part.trim());
    if (!m) throw new Error(`drift "${part}": expected unit:SITE@MONTH, shift:SITE@MONTH:YEARS or prevalence:SITE@MONTH:LOGODDS`);
    const [, kind, site, from, amount] = m;
    const base = { site: Number(site) - 1, from: Number(from) };
    if (kind === "unit") return PlantedDrift.parse({ kind, ...base });
    if (amount === undefined) throw new Error(`drift "${part}": ${kind} needs an amount after a second colon`);
    return PlantedDrift.parse(kind === "shift" ? { kind, ...base, years: Number(amount) } : { kind, ...base, logOdds: Number(amount) });
  });
}

export interface CohortOptions {
  readonly sites: number;
  /** Patients admitted per month over all hospitals; hospitals differ in size (1 : 2 from the first to the last). */
  readonly patientsPerMonth: number;
  readonly drifts: readonly PlantedDrift[];
  readonly seed: number;
}

/** The rows hospital `site` admits in `month` (months before 1 are history). */
export function monthRows(o: CohortOptions, site: number, month: number): Table {
  const rng = seededRandom((o.seed * 1_000_003 + site * 7919 + (month + 100) * 104_729) >>> 0);
  const weight = 1 + site / Math.max(1, o.sites - 1);
  const total = Array.from({ length: o.sites }, (_, i) => 1 + i / Math.max(1, o.sites - 1)).reduce((a, b) => a + b, 0);
  const n = Math.max(1, Math.round((o.patientsPerMonth * weight) / total));
  const active = (kind: PlantedDrift["kind"]) => o.drifts.filter((d) => d.kind === kind && d.site === site && month >= d.from);
  const ageShift = active("shift").reduce((s, d) => s + (d.kind === "shift" ? d.years : 0), 0);
  const logOdds = active("prevalence").reduce((s, d) => s + (d.kind === "prevalence" ? d.logOdds : 0), 0);
  const mmol = active("unit").length > 0;
  // Hospitals differ a little in case mix, as real ones do.
  const siteAge = 56 + 4 * Math.sin(site + 1);
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const age = Math.min(99, Math.max(18, siteAge + ageShift + 11 * standardNormal(rng)));
    const chol = Math.min(390, Math.max(110, 215 + 40 * standardNormal(rng)));
    const sbp = Math.min(225, Math.max(85, 128 + 0.3 * (age - 55) + 16 * standardNormal(rng)));
    const smoker = rng() < 0.25;
    const logit = -2.4 + 0.06 * (age - 56) + 0.012 * (chol - 215) + 0.025 * (sbp - 128) + 0.8 * (smoker ? 1 : 0) + logOdds;
    const event = rng() < 1 / (1 + Math.exp(-logit));
    rows.push([age.toFixed(0), (mmol ? chol / 38.67 : chol).toFixed(mmol ? 2 : 0), sbp.toFixed(0), smoker ? "yes" : "no", event ? "1" : "0"]);
  }
  return { columns: COLUMNS, rows };
}

/** The synthetic hospitals as the month-by-month replay reads them (any month). */
export function syntheticMonths(o: CohortOptions): MonthlyData {
  return {
    spec: cohortSpec,
    sites: Array.from({ length: o.sites }, (_, i) => `site-${String(i + 1).padStart(2, "0")}`),
    first: Number.NEGATIVE_INFINITY,
    last: Number.POSITIVE_INFINITY,
    month: (site, month) => ({ table: monthRows(o, site, month) }),
  };
}

/** Hospital `site`'s rows of months `from`..`to` (inclusive), in order. */
export function windowRows(o: CohortOptions, site: number, from: number, to: number): Table {
  const rows: string[][] = [];
  for (let m = from; m <= to; m++) rows.push(...monthRows(o, site, m).rows.map((r) => [...r]));
  return { columns: COLUMNS, rows };
}
