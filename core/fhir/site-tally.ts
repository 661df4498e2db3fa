/**
 * @module
 * What the generator produced per site, counted patient by patient, and the cohort's manifest
 * (config, model, tallies): the numbers a mapper's report is checked against.
 */
import { z } from "zod";
import { SynthConfig } from "./synth-config.ts";
import type { SynthPatient } from "./synth.ts";

const count = z.number().int().nonnegative();
/** What one site's generation produced, for checking a mapper's report against. */
export const SiteTally = z.object({
  name: z.string(),
  patients: count,
  /** Recorded labels that are 1, and drawn outcomes that are 1. */
  positives: count,
  events: count,
  resources: z.object({ Patient: count, Observation: count, Condition: count }),
  /** Heart-rate readings (unknown codes), old SBP readings and prior events (outside their windows). */
  planted: z.object({ otherObservations: count, oldReadings: count, priorEvents: count }),
  /** Patients without any reading of each kind. */
  missing: z.object({ sbp: count, chol: count, hba1c: count, bmi: count, smoking: count }),
});
export type SiteTally = z.infer<typeof SiteTally>;

export const CohortManifest = z.object({
  config: SynthConfig,
  model: z.object({ intercept: z.number(), terms: z.record(z.string(), z.object({ center: z.number(), scale: z.number(), beta: z.number() })) }),
  sites: z.array(SiteTally),
});
export type CohortManifest = z.infer<typeof CohortManifest>;

export function emptyTally(name: string): SiteTally {
  return {
    name,
    patients: 0,
    positives: 0,
    events: 0,
    resources: { Patient: 0, Observation: 0, Condition: 0 },
    planted: { otherObservations: 0, oldReadings: 0, priorEvents: 0 },
    missing: { sbp: 0, chol: 0, hba1c: 0, bmi: 0, smoking: 0 },
  };
}

/** Counts one patient into `t` (in place). */
export function tally(t: SiteTally, p: SynthPatient): void {
  t.patients++;
  t.positives += p.truth.label;
  t.events += p.truth.event;
  t.resources.Patient++;
  t.resources.Observation += p.observations.length;
  t.resources.Condition += p.conditions.length;
  for (const k of ["otherObservations", "oldReadings", "priorEvents"] as const) t.planted[k] += p.planted[k];
  for (const k of ["sbp", "chol", "hba1c", "bmi", "smoking"] as const) t.missing[k] += p.planted.missing[k] ? 1 : 0;
}
