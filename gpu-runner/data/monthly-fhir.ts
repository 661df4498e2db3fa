/**
 * @module
 * A consortium's FHIR data over time: one export per calendar month, as a hospital's monthly bulk
 * export would deliver it, each a complete cohort directory (`write-cohort.ts`: a subdirectory per
 * site, `cdm.json`, `manifest.json`) whose patients are admitted on the first of the month; and
 * `months.json` at the top naming the months in order and the drifts planted in them.
 *
 *   dir/months.json                  the months (number, directory, index date), sites, planted drifts
 *   dir/2026-08/site-01/…            the first month of history
 *   …
 *   dir/2027-01/site-01/…            month 1 of the replay
 *
 * The data model is the default one with a 30-day outcome (an event within 30 days of the
 * admission), so that a month's labels are complete a month later; features look back a year from
 * each month's index date. Sites differ as `defaultSiteProfiles` makes them, without the unit error
 * it plants at the second site from the start: drifts come from `--drift`, from their month on (a
 * unit error sends cholesterol in mmol/L labelled mg/dL; a shift makes patients older; a prevalence
 * change moves the outcome's log-odds).
 *
 * `loadMonthlyFhir` maps every month's export of every site onto the data model once, for the
 * month-by-month replay (`cli/simulate-continuous.ts`).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { cdmToFeatureSpec, type Cdm } from "../../core/fhir/cdm.ts";
import { defaultCdm } from "../../core/fhir/default-cdm.ts";
import { defaultSiteProfiles, type SiteProfileInput } from "../../core/fhir/synth-config.ts";
import type { Table } from "../../core/preprocess/table.ts";
import type { FeatureSpec } from "../../core/schemas/feature-spec.ts";
import { PlantedDrift } from "../simulation/monthly-cohort.ts";
import { isFile, loadFhirSites, outOfRangeOf } from "./fhir-sites.ts";
import { writeCohort } from "./write-cohort.ts";

/** Days after the admission within which an event counts: a month's labels are complete a month later. */
export const OUTCOME_DAYS = 30;

export const MonthsManifest = z.object({
  kind: z.literal("consilium-monthly-fhir"),
  seed: z.int(),
  sites: z.array(z.string().min(1)).min(1),
  patientsPerMonth: z.int().positive(),
  /** In order; month 1 is the replay's first, months up to 0 are history. */
  months: z.array(z.object({ month: z.int(), dir: z.string().regex(/^\d{4}-\d{2}$/), indexDate: z.string().regex(/^\d{4}-\d{2}-01$/) })).min(1),
  drifts: z.array(PlantedDrift),
});
export type MonthsManifest = z.infer<typeof MonthsManifest>;

export interface MonthlyCohortOptions {
  readonly seed: number;
  readonly sites: number;
  readonly patientsPerMonth: number;
  /** Months of the replay (1..months)… */
  readonly months: number;
  /** …after this many months of history (1-history..0). */
  readonly history: number;
  readonly drifts: readonly PlantedDrift[];
  /** Month 1's calendar month (YYYY-MM). */
  readonly start?: string;
}

/** The calendar month `offset` months after `start` (YYYY-MM). */
function calendarMonth(start: string, offset: number): string {
  const [y, m] = start.split("-").map(Number) as [number, number];
  const d = new Date(Date.UTC(y, m - 1 + offset, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** The data model of a monthly export: the default one, a 30-day outcome, at the month's index date. */
export function monthlyCdm(indexDate: string): Cdm {
  return { ...defaultCdm, name: "cardio-30d-v1", indexDate, label: { ...defaultCdm.label, window: { fromDays: 0, toDays: OUTCOME_DAYS } } };
}

/** Each site's profile in `month`: the default profiles without a unit error of their own, with the drifts begun by then. */
export function monthProfiles(sites: number, month: number, drifts: readonly PlantedDrift[]): SiteProfileInput[] {
  return defaultSiteProfiles(sites).map((p, k) => {
    const active = drifts.filter((d) => d.site === k && month >= d.from);
    const base = { ...p, cholesterolUnit: p.cholesterolUnit === "mmol/L-as-mg/dL" ? ("mg/dL" as const) : p.cholesterolUnit };
    const years = active.reduce((s, d) => s + (d.kind === "shift" ? d.years : 0), 0);
    const logOdds = active.reduce((s, d) => s + (d.kind === "prevalence" ? d.logOdds : 0), 0);
    return {
      ...base,
      age: { mean: Math.min(95, Math.max(18, (p.age?.mean ?? 58) + years)), sd: p.age?.sd ?? 11 },
      riskOffset: (p.riskOffset ?? 0) + logOdds,
      ...(active.some((d) => d.kind === "unit") && { cholesterolUnit: "mmol/L-as-mg/dL" as const }),
    };
  });
}

/** Writes the months `1-history..months` under `dir` and `months.json`; the same options write the same bytes. */
export async function writeMonthlyCohort(o: MonthlyCohortOptions, dir: string, onMonth?: (month: number, dirName: string) => void): Promise<MonthsManifest> {
  const start = o.start ?? "2027-01";
  const months: MonthsManifest["months"] = [];
  for (let month = 1 - o.history; month <= o.months; month++) {
    const name = calendarMonth(start, month - 1);
    const indexDate = `${name}-01`;
    await writeCohort(
      {
        // A stream of its own for every month: the same patients whatever the number of months written.
        seed: (o.seed * 1009 + (month + 1000) * 7919) >>> 0,
        patients: Math.max(o.sites, o.patientsPerMonth),
        indexDate,
        eventWithinDays: OUTCOME_DAYS - 2,
        idPrefix: `${name}-`,
        sites: monthProfiles(o.sites, month, o.drifts),
      },
      join(dir, name),
      { cdm: monthlyCdm(indexDate) },
    );
    months.push({ month, dir: name, indexDate });
    onMonth?.(month, name);
  }
  const manifest: MonthsManifest = {
    kind: "consilium-monthly-fhir",
    seed: o.seed,
    sites: defaultSiteProfiles(o.sites).map((p) => p.name),
    patientsPerMonth: Math.max(o.sites, o.patientsPerMonth),
    months,
    drifts: [...o.drifts],
  };
  await writeFile(join(dir, "months.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** One site's mapped rows of one month, with the readings its data model refused as out of range. */
export interface MonthData {
  readonly table: Table;
  readonly outOfRange?: Readonly<Record<string, { readonly count: number; readonly mean: number }>>;
}

/** A consortium's months, mapped: site `s` (0-based, in `sites` order) in month `m`. */
export interface MonthlyData {
  readonly spec: FeatureSpec;
  readonly sites: readonly string[];
  readonly first: number;
  readonly last: number;
  month(site: number, month: number): MonthData;
}

/** Whether `dir` holds monthly exports (`months.json`). */
export function isMonthlyFhir(dir: string): Promise<boolean> {
  return isFile(join(dir, "months.json"));
}

/** Maps every month of `dir` (as `writeMonthlyCohort` writes it) onto each month's data model. */
export async function loadMonthlyFhir(dir: string): Promise<MonthlyData & { readonly manifest: MonthsManifest }> {
  const file = join(dir, "months.json");
  let manifest: MonthsManifest;
  try {
    manifest = MonthsManifest.parse(JSON.parse(await readFile(file, "utf8")));
  } catch (err) {
    throw new Error(`${file} does not describe monthly FHIR exports (${err instanceof z.ZodError ? z.prettifyError(err) : (err as Error).message})`);
  }
  const months = manifest.months.map((m) => m.month);
  if (months.some((m, i) => i > 0 && m !== months[i - 1]! + 1)) throw new Error(`${file}: the months are not consecutive`);
  const tables = new Map<string, MonthData>();
  let spec: FeatureSpec | null = null;
  for (const m of manifest.months) {
    const { cdm, sites } = await loadFhirSites(join(dir, m.dir), monthlyCdm(m.indexDate));
    if (cdm.indexDate !== m.indexDate) throw new Error(`${join(dir, m.dir, "cdm.json")}: index date ${cdm.indexDate}, months.json says ${m.indexDate}`);
    const monthSpec = cdmToFeatureSpec(cdm);
    if (spec !== null && JSON.stringify(monthSpec) !== JSON.stringify(spec)) throw new Error(`${join(dir, m.dir)}: its data model's features differ from the first month's`);
    spec = monthSpec;
    const names = sites.map((s) => s.name);
    if (JSON.stringify(names) !== JSON.stringify(manifest.sites)) throw new Error(`${join(dir, m.dir)} holds sites ${names.join(", ")}; months.json names ${manifest.sites.join(", ")}`);
    for (const [k, { mapped }] of sites.entries()) {
      const outOfRange = outOfRangeOf(mapped.report);
      tables.set(`${k}/${m.month}`, { table: mapped.table, ...(outOfRange && { outOfRange }) });
    }
  }
  return {
    manifest,
    spec: spec!,
    sites: manifest.sites,
    first: months[0]!,
    last: months.at(-1)!,
    month(site, month) {
      const data = tables.get(`${site}/${month}`);
      if (data === undefined) throw new RangeError(`no export of site ${site + 1} for month ${month} (have months ${months[0]}..${months.at(-1)})`);
      return data;
    },
  };
}

/** Site `site`'s months `from..to` in one table, with the refused readings summed (their means weighted by count). */
export function monthsData(data: MonthlyData, site: number, from: number, to: number): MonthData {
  const parts = [];
  for (let m = from; m <= to; m++) parts.push(data.month(site, m));
  const columns = parts[0]?.table.columns ?? [];
  const outOfRange: Record<string, { count: number; mean: number }> = {};
  for (const p of parts) {
    for (const [feature, r] of Object.entries(p.outOfRange ?? {})) {
      const was = outOfRange[feature] ?? { count: 0, mean: 0 };
      const count = was.count + r.count;
      outOfRange[feature] = { count, mean: (was.mean * was.count + r.mean * r.count) / count };
    }
  }
  return { table: { columns, rows: parts.flatMap((p) => p.table.rows.map((r) => [...r])) }, ...(Object.keys(outOfRange).length > 0 && { outOfRange }) };
}
