/**
 * @module
 * `consilium synth`: writes a synthetic consortium as FHIR R4 — one directory per hospital with its
 * Patients, Observations and Conditions — whose sites differ as real ones do (age mix, prevalence,
 * measurement shift, a unit error, missingness, label noise; `defaultSiteProfiles`) and whose
 * outcome follows a documented logistic model (`core/fhir/cardio-model.ts`), so that what a
 * federation learns from it can be checked. Deterministic by seed. `consilium simulate --fhir DIR`
 * trains on it. With `--months M`, one export per calendar month with drifts planted from a month on
 * (`gpu-runner/data/monthly-fhir.ts`), for `consilium simulate --fhir DIR --months M`.
 */
import { z } from "zod";
import { defaultSiteProfiles } from "../../core/fhir/synth-config.ts";
import { writeMonthlyCohort } from "../../gpu-runner/data/monthly-fhir.ts";
import { writeCohort } from "../../gpu-runner/data/write-cohort.ts";
import { parseDrifts, type PlantedDrift } from "../../gpu-runner/simulation/monthly-cohort.ts";
import { choiceFlag, intFlag, parseFlags, processIo, textFlag, UsageError, type CommandIo, type CommandSpec } from "./flags.ts";

export const SynthFlags = z
  .object({
    sites: intFlag(1, 1000).default(10),
    patients: intFlag(1, 100_000_000).default(10_000),
    seed: intFlag(0, 2 ** 31 - 1).default(1),
    out: textFlag(),
    format: choiceFlag(["ndjson", "bundle"] as const).default("ndjson"),
    months: intFlag(1, 240).optional(),
    history: intFlag(1, 120).optional(),
    drift: textFlag().optional(),
  })
  .refine((f) => f.patients >= f.sites * ((f.months ?? 0) + (f.months === undefined ? 1 : (f.history ?? 6))), { message: "--patients must be at least --sites (a patient per site, in every month written)" })
  .refine((f) => f.months !== undefined || (f.history === undefined && f.drift === undefined), { message: "--history and --drift need --months M" })
  .refine((f) => f.months === undefined || f.format === "ndjson", { message: "--months writes ndjson exports" });
export type SynthFlags = z.infer<typeof SynthFlags>;

export const synthSpec: CommandSpec<typeof SynthFlags> = {
  name: "synth",
  summary: "Writes a synthetic FHIR R4 consortium (a directory per hospital) for consilium simulate --fhir DIR.",
  schema: SynthFlags,
  flags: {
    sites: { type: "string", value: "N", help: "hospitals (default 10)" },
    patients: { type: "string", value: "P", help: "patients over all hospitals (default 10000)" },
    seed: { type: "string", value: "S", help: "seed: the same seed writes the same bytes (default 1)" },
    out: { type: "string", value: "DIR", help: "directory to write (a subdirectory per hospital, and manifest.json)" },
    format: { type: "string", value: "FORMAT", help: "ndjson (a file per resource type, default) or bundle (one collection Bundle per hospital)" },
    months: { type: "string", value: "M", help: "monthly exports for consilium simulate --fhir DIR --months: a directory per calendar month (patients admitted that month, an outcome within 30 days), --patients shared among the months" },
    history: { type: "string", value: "H", help: "with --months: months of history before month 1 (default 6; the replay's first run trains on them)" },
    drift: { type: "string", value: "SPEC", help: "with --months: drifts from a month on, comma-separated: unit:SITE@MONTH (cholesterol in mmol/L labelled mg/dL), shift:SITE@MONTH:YEARS (older patients), prevalence:SITE@MONTH:LOGODDS" },
  },
};

/**
 * @example
 * await synthCommand(["--sites", "10", "--patients", "50000", "--out", "cohort"]);
 */
export async function synthCommand(argv: readonly string[], options: { readonly io?: CommandIo } = {}): Promise<void> {
  const io = options.io ?? processIo;
  const flags = parseFlags(synthSpec, argv, io.env);
  const started = performance.now();
  if (flags.months !== undefined) return synthMonths(flags, io, started);
  const manifest = await writeCohort({ seed: flags.seed, patients: flags.patients, sites: defaultSiteProfiles(flags.sites) }, flags.out, {
    format: flags.format,
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  io.out(`consilium synth: ${flags.patients.toLocaleString("en-US")} patients over ${flags.sites} sites written to ${flags.out} in ${seconds} s (seed ${flags.seed})`);
  manifest.sites.forEach((t, k) => {
    const p = manifest.config.sites[k];
    const unit = p?.cholesterolUnit === "mg/dL" ? "" : `, cholesterol as ${p?.cholesterolUnit}`;
    const noise = p?.labelNoise ? `, label noise ${p.labelNoise}` : "";
    io.out(`  ${t.name}: ${t.patients.toLocaleString("en-US")} patients, prevalence ${((100 * t.positives) / Math.max(1, t.patients)).toFixed(1)}%${unit}${noise}`);
  });
}

/** `--months M`: the monthly exports of `writeMonthlyCohort`, one line per month. */
async function synthMonths(flags: SynthFlags, io: CommandIo, started: number): Promise<void> {
  const months = flags.months!;
  const history = flags.history ?? 6;
  let drifts;
  try {
    drifts = parseDrifts(flags.drift ?? "");
  } catch (err) {
    throw new UsageError(`--drift: ${(err as Error).message}`);
  }
  const outside = drifts.find((d) => d.site >= flags.sites || d.from > months);
  if (outside) throw new UsageError(`--drift: site ${outside.site + 1} from month ${outside.from} is outside --sites ${flags.sites} and --months ${months}`);
  const patientsPerMonth = Math.floor(flags.patients / (months + history));
  const manifest = await writeMonthlyCohort({ seed: flags.seed, sites: flags.sites, patientsPerMonth, months, history, drifts }, flags.out, (month, dir) => io.err(`  month ${month} (${dir}) written`));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const first = manifest.months[0]!;
  const last = manifest.months.at(-1)!;
  io.out(`consilium synth: ${manifest.months.length} monthly exports (${first.dir} to ${last.dir}: ${history} of history, then months 1 to ${months}) of ${flags.sites} sites, ${patientsPerMonth.toLocaleString("en-US")} patients a month, written to ${flags.out} in ${seconds} s (seed ${flags.seed})`);
  for (const d of drifts) io.out(`  planted: ${describeDrift(d)}`);
}

const describeDrift = (d: PlantedDrift) =>
  d.kind === "unit"
    ? `site ${d.site + 1} sends cholesterol in mmol/L labelled mg/dL from month ${d.from}`
    : d.kind === "shift"
      ? `site ${d.site + 1}'s patients ${d.years} years older from month ${d.from}`
      : `site ${d.site + 1}'s outcome log-odds ${d.logOdds > 0 ? "+" : ""}${d.logOdds} from month ${d.from}`;
