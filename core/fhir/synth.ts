/**
 * @module
 * Synthetic FHIR R4 cohorts for hospital consortia: Patients with their Observations and
 * Conditions, deterministic by seed, with the non-IID structure of `SiteProfile` and an outcome
 * drawn from the known logistic model of `cardio-model.ts`. Each site has its own random stream,
 * so a site is generated patient by patient without the others (and without holding the cohort).
 *
 * Per patient: age, sex, BMI, diabetes (more likely with age and BMI), smoking, an SBP level
 * (rising with age and BMI) and cholesterol and HbA1c levels; then 1–3 SBP, 1–2 BMI, cholesterol
 * and HbA1c readings in the year before the index date and one smoking-status answer; the
 * features as the default CDM computes them from those readings; the outcome from the model;
 * label noise; and an MI Condition within the year after the index date when the label is 1.
 */
import type { Condition, Observation, Patient } from "fhir/r4.js";
import { seededRandom, standardNormal } from "../random.ts";
import { CARDIO_MODEL, cardioLogit, sigmoid, type CardioValues } from "./cardio-model.ts";
import { emptyTally, tally, type CohortManifest, type SiteTally } from "./site-tally.ts";
import { UCUM } from "./codes.ts";
import { CODES } from "./default-cdm.ts";
import { DAY_MS, parseFhirDateTime } from "./fhir-date.ts";
import { SynthConfig, type SiteProfile, type SynthConfigInput } from "./synth-config.ts";
import { CHOLESTEROL_MG_DL_PER_MMOL_L } from "./units.ts";

export { CohortManifest, emptyTally, SiteTally, tally } from "./site-tally.ts";

export interface PatientTruth {
  /** The features the outcome was drawn from: the default CDM's values before site artefacts. */
  readonly values: CardioValues;
  readonly risk: number;
  /** The drawn outcome, and the recorded label (after label noise). */
  readonly event: 0 | 1;
  readonly label: 0 | 1;
}

export interface SynthPatient {
  readonly patient: Patient;
  readonly observations: Observation[];
  readonly conditions: Condition[];
  readonly truth: PatientTruth;
  /** What was planted for the mapper to count: unused readings, and kinds of reading left out. */
  readonly planted: {
    readonly otherObservations: number;
    readonly oldReadings: number;
    readonly priorEvents: number;
    readonly missing: Readonly<Record<"sbp" | "chol" | "hba1c" | "bmi" | "smoking", boolean>>;
  };
}

/** Patients per site: `patients` shared by `share`, largest remainders first (ties to the earlier site). */
export function sitePatientCounts(config: SynthConfig): number[] {
  const total = config.sites.reduce((a, s) => a + s.share, 0);
  const exact = config.sites.map((s) => (config.patients * s.share) / total);
  const counts = exact.map((e) => Math.max(1, Math.floor(e)));
  let left = config.patients - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ r: e - Math.floor(e), i })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let j = 0; left !== 0; j = (j + 1) % order.length) {
    const i = order[j]!.i;
    if (left < 0 && counts[i]! <= 1) continue;
    counts[i] = counts[i]! + Math.sign(left);
    left -= Math.sign(left);
  }
  return counts;
}

/** The seed of site `site`'s stream: the cohort seed and the site index mixed (murmur3's finaliser). */
export function siteSeed(seed: number, site: number): number {
  let h = (seed ^ Math.imul(site + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category";
const category = (code: string) => [{ coding: [{ system: CATEGORY, code }] }];

/**
 * Site `site`'s patients, one at a time, in a fixed order: the same config gives the same
 * resources, byte for byte, on every machine.
 */
export function* synthSite(config: SynthConfig, site: number): Generator<SynthPatient> {
  const profile = config.sites[site];
  if (profile === undefined) throw new RangeError(`no site ${site} (have ${config.sites.length})`);
  const n = sitePatientCounts(config)[site]!;
  const rng = seededRandom(siteSeed(config.seed, site));
  const indexMs = parseFhirDateTime(config.indexDate);
  const normal = () => standardNormal(rng);
  const days = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  /** A clinic time `back` days before the index date (negative: after it). */
  const at = (back: number) => new Date(indexMs - back * DAY_MS + (8 + Math.floor(rng() * 9)) * 3_600_000 + Math.floor(rng() * 60) * 60_000).toISOString();
  const pad = String(n - 1).length;
  for (let i = 0; i < n; i++) {
    const id = `${config.idPrefix}${profile.name}-${String(i).padStart(pad, "0")}`;
    yield synthPatient(profile, id, indexMs, { rng, normal, days, at, eventWithinDays: config.eventWithinDays });
  }
}

interface Draws {
  readonly rng: () => number;
  readonly normal: () => number;
  readonly days: (lo: number, hi: number) => number;
  readonly at: (back: number) => string;
  readonly eventWithinDays: number;
}

function synthPatient(p: SiteProfile, id: string, indexMs: number, d: Draws): SynthPatient {
  const { rng, normal, days, at, eventWithinDays } = d;
  const age = clamp(Math.round(p.age.mean + p.age.sd * normal()), 18, 95);
  const male = rng() < p.maleFraction ? 1 : 0;
  const bmiLevel = clamp(27 + 4.5 * normal(), 16, 55);
  const diabetes = rng() < sigmoid(-2.4 + 0.045 * (age - 55) + 0.16 * (bmiLevel - 27)) ? 1 : 0;
  const smoker = rng() < clamp(p.smokerFraction + (male ? 0.04 : -0.04), 0, 1) ? 1 : 0;
  const sbpLevel = 122 + 0.5 * (age - 55) + 0.9 * (bmiLevel - 27) + 3 * male + 14 * normal();
  const cholLevel = clamp(200 + 0.5 * (age - 55) + 36 * normal(), 110, 380);
  const hba1cLevel = diabetes ? clamp(7.3 + 1.0 * normal(), 5.5, 14) : clamp(5.4 + 0.35 * normal(), 4.2, 6.4);

  const index = new Date(indexMs);
  const birth = Date.UTC(index.getUTCFullYear() - age - 1, index.getUTCMonth(), index.getUTCDate()) + days(1, 364) * DAY_MS;
  const patient: Patient = { resourceType: "Patient", id, gender: male ? "male" : "female", birthDate: new Date(birth).toISOString().slice(0, 10) };
  const subject = { reference: `Patient/${id}` };
  const observations: Observation[] = [];
  const conditions: Condition[] = [];
  let serial = 0;
  const quantity = (cat: string, code: { system: string; code: string; display: string }, back: number, value: number, unit: string): Observation => ({
    resourceType: "Observation",
    id: `${id}-o${serial++}`,
    status: "final",
    category: category(cat),
    code: { coding: [{ ...code }] },
    subject,
    effectiveDateTime: at(back),
    valueQuantity: { value, unit, system: UCUM, code: unit },
  });
  /** `k` readings of a level on distinct days of the last year, oldest first (so the last is the latest). */
  const readings = (k: number, draw: () => number) => {
    const out: { back: number; value: number }[] = [];
    while (out.length < k) {
      const back = days(1, 364);
      if (!out.some((r) => r.back === back)) out.push({ back, value: draw() });
    }
    return out.sort((a, b) => b.back - a.back);
  };
  const missing = (m: number | undefined) => rng() < (m ?? 0);
  const gone = { sbp: false, chol: false, hba1c: false, bmi: false, smoking: false };
  let oldReadings = 0;
  let otherObservations = 0;

  // Systolic blood pressure: the feature is the mean of the year's readings.
  const sbp = readings(1 + Math.floor(3 * rng()), () => clamp(Math.round(sbpLevel + 8 * normal()), 80, 240));
  gone.sbp = missing(p.missing.sbp);
  if (!gone.sbp) for (const r of sbp) observations.push(quantity("vital-signs", CODES.systolic, r.back, r.value + (p.shift.sbp ?? 0), "mm[Hg]"));
  if (!gone.sbp && rng() < p.oldReadings) {
    oldReadings++;
    observations.push(quantity("vital-signs", CODES.systolic, days(400, 900), clamp(Math.round(sbpLevel - 10 + 8 * normal()), 80, 240), "mm[Hg]"));
  }

  // BMI, cholesterol, HbA1c: the feature is the latest reading.
  const bmi = readings(1 + (rng() < 0.5 ? 1 : 0), () => round(clamp(bmiLevel + 0.4 * normal(), 15, 60), 1));
  gone.bmi = missing(p.missing.bmi);
  if (!gone.bmi) for (const r of bmi) observations.push(quantity("vital-signs", CODES.bmi, r.back, round(r.value + (p.shift.bmi ?? 0), 1), "kg/m2"));
  const chol = readings(1 + (rng() < 0.4 ? 1 : 0), () => clamp(Math.round(cholLevel + 10 * normal()), 100, 420));
  gone.chol = missing(p.missing.chol);
  if (!gone.chol) {
    for (const r of chol) {
      const mgdl = r.value + (p.shift.chol ?? 0);
      const mmol = round(mgdl / CHOLESTEROL_MG_DL_PER_MMOL_L, 2);
      if (p.cholesterolUnit === "mg/dL") observations.push(quantity("laboratory", CODES.cholesterolMass, r.back, mgdl, "mg/dL"));
      else if (p.cholesterolUnit === "mmol/L") observations.push(quantity("laboratory", CODES.cholesterolMoles, r.back, mmol, "mmol/L"));
      else observations.push(quantity("laboratory", CODES.cholesterolMass, r.back, mmol, "mg/dL"));
    }
  }
  const hba1c = readings(1 + (rng() < 0.3 ? 1 : 0), () => round(clamp(hba1cLevel + 0.15 * normal(), 4, 15), 1));
  gone.hba1c = missing(p.missing.hba1c);
  if (!gone.hba1c) {
    for (const r of hba1c) {
      const pct = round(r.value + (p.shift.hba1c ?? 0), 1);
      if (p.hba1cUnit === "%") observations.push(quantity("laboratory", CODES.hba1c, r.back, pct, "%"));
      else observations.push(quantity("laboratory", CODES.hba1cIfcc, r.back, Math.round((pct - 2.152) / 0.09148), "mmol/mol"));
    }
  }

  // Smoking status, one answer in the last two years (ex-smokers count as non-smokers).
  gone.smoking = missing(p.missing.smoking);
  if (!gone.smoking) {
    const answer = smoker ? CODES.smoker : rng() < 0.3 ? CODES.exSmoker : CODES.neverSmoker;
    observations.push({
      resourceType: "Observation",
      id: `${id}-o${serial++}`,
      status: "final",
      category: category("social-history"),
      code: { coding: [{ ...CODES.smoking }] },
      subject,
      effectiveDateTime: at(days(1, 700)),
      valueCodeableConcept: { coding: [{ ...answer }] },
    });
  }
  for (let k = Math.floor(p.otherObservations) + (rng() < p.otherObservations % 1 ? 1 : 0); k > 0; k--) {
    otherObservations++;
    observations.push(quantity("vital-signs", CODES.heartRate, days(1, 700), Math.round(clamp(72 + 11 * normal(), 40, 160)), "/min"));
  }

  const condition = (suffix: string, code: { system: string; code: string }, onset: string): Condition => ({
    resourceType: "Condition",
    id: `${id}-${suffix}`,
    clinicalStatus: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/condition-clinical", code: "active" }] },
    verificationStatus: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/condition-ver-status", code: "confirmed" }] },
    code: { coding: [{ ...code }] },
    subject,
    onsetDateTime: onset,
  });
  const snomed = p.coding === "snomed";
  if (diabetes) conditions.push(condition("diabetes", snomed ? CODES.diabetesSnomed : CODES.diabetesIcd10, at(days(30, 5000))));
  const priorEvents = rng() < p.priorEvents ? 1 : 0;
  if (priorEvents) conditions.push(condition("prior", snomed ? CODES.infarctionSnomed : CODES.infarctionIcd10, at(days(400, 3000))));

  const values: CardioValues = {
    age,
    male,
    sbp: sbp.reduce((a, r) => a + r.value, 0) / sbp.length,
    chol: chol[chol.length - 1]!.value,
    hba1c: hba1c[hba1c.length - 1]!.value,
    bmi: bmi[bmi.length - 1]!.value,
    smoker,
    diabetes,
  };
  const risk = sigmoid(cardioLogit(values, p.riskOffset));
  const event = rng() < risk ? 1 : 0;
  const label = rng() < p.labelNoise ? ((1 - event) as 0 | 1) : event;
  if (label) conditions.push(condition("event", snomed ? CODES.infarctionSnomed : CODES.infarctionIcd10, at(-days(1, eventWithinDays))));
  return { patient, observations, conditions, truth: { values, risk, event, label }, planted: { otherObservations, oldReadings, priorEvents, missing: gone } };
}

export interface SynthSite {
  readonly name: string;
  readonly resources: { readonly Patient: Patient[]; readonly Observation: Observation[]; readonly Condition: Condition[] };
  readonly truth: PatientTruth[];
  readonly tally: SiteTally;
}

/**
 * A whole cohort in memory, for tests and small simulations (`writeCohort` streams large ones).
 *
 * @example
 * const { sites } = synthCohort({ seed: 7, patients: 2000, sites: defaultSiteProfiles(4) });
 */
export function synthCohort(input: SynthConfigInput): { readonly config: SynthConfig; readonly manifest: CohortManifest; readonly sites: SynthSite[] } {
  const config = SynthConfig.parse(input);
  const sites = config.sites.map((profile, s) => {
    const out: SynthSite = { name: profile.name, resources: { Patient: [], Observation: [], Condition: [] }, truth: [], tally: emptyTally(profile.name) };
    for (const p of synthSite(config, s)) {
      out.resources.Patient.push(p.patient);
      out.resources.Observation.push(...p.observations);
      out.resources.Condition.push(...p.conditions);
      out.truth.push(p.truth);
      tally(out.tally, p);
    }
    return out;
  });
  return { config, manifest: { config, model: CARDIO_MODEL, sites: sites.map((s) => s.tally) }, sites };
}
