/**
 * @module
 * `consilium synth`: writes a synthetic consortium as FHIR R4 — one directory per hospital with its
 * Patients, Observations and Conditions — whose sites differ as real ones do (age mix, prevalence,
 * measurement shift, a unit error, missingness, label noise; `defaultSiteProfiles`) and whose
 * outcome follows a documented logistic model (`core/fhir/cardio-model.ts`), so that what a
 * federation learns from it can be checked. Deterministic by seed. `consilium simulate --fhir DIR`
 * trains on it.
 */
import { z } from "zod";
import { defaultSiteProfiles } from "../../core/fhir/synth-config.ts";
import { writeCohort } from "../../gpu-runner/data/write-cohort.ts";
import { choiceFlag, intFlag, parseFlags, processIo, textFlag, type CommandIo, type CommandSpec } from "./flags.ts";

export const SynthFlags = z
  .object({
    sites: intFlag(1, 1000).default(10),
    patients: intFlag(1, 100_000_000).default(10_000),
    seed: intFlag(0, 2 ** 31 - 1).default(1),
    out: textFlag(),
    format: choiceFlag(["ndjson", "bundle"] as const).default("ndjson"),
  })
  .refine((f) => f.patients >= f.sites, { message: "--patients must be at least --sites (a patient per site)" });
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
