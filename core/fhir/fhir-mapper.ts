/**
 * @module
 * The streaming FHIR → Table mapper. Resources arrive one at a time in any order (Observations
 * before their Patient, several files, several Bundles); each is reduced into its subject's
 * running aggregates at once, so memory grows with patients × features, not with resources.
 * Nothing is dropped silently: every resource read is counted as used or under one reason.
 */
import type { Table } from "../preprocess/table.ts";
import { initSlot, mergeSlot, pushSlot, readSlot } from "./aggregate-slot.ts";
import type { Cdm } from "./cdm.ts";
import { compileCdm, type CompiledCdm } from "./compile-cdm.ts";
import { ageInYears, parseFhirDateTime } from "./fhir-date.ts";
import { bump, type DropReason, type FeatureCounts, type MappingReport, type ReasonCounts, type ResourceCounts } from "./mapping-report.ts";
import { codedValue, convertedQuantity, quantityValue } from "./observation-value.ts";
import { BundlePart, ConditionPart, ObservationPart, PatientPart } from "./resources.ts";

export interface FhirTable {
  /** One row per Patient, in the order the Patients were read; columns: features, then the label. */
  readonly table: Table;
  /** `Patient.id` of each row. */
  readonly patientIds: readonly string[];
  readonly report: MappingReport;
}

export interface FhirMapper {
  /** One resource (or a whole Bundle); `fullUrl` is the Bundle entry's, for `urn:uuid:` references. */
  add(resource: unknown, fullUrl?: string): void;
  /** One NDJSON line; blank lines are skipped. */
  addLine(line: string): void;
  finish(): FhirTable;
}

interface Subject {
  patient: PatientPart | undefined;
  readonly state: Float64Array;
  /** Observations and Conditions credited to this subject until it is resolved to a Patient. */
  observations: number;
  conditions: number;
}

const PATIENT_REF = /^(?:.*\/)?(Patient\/[^/]+)(?:\/_history\/[^/]+)?$/;
const EXCLUDED_VERIFICATION = new Set(["refuted", "entered-in-error"]);

/** "Patient/1", ".../fhir/Patient/1/_history/2" → "Patient/1"; other references (urn:uuid:…) as they are. */
export function subjectKey(reference: string): string {
  if (reference.startsWith("Patient/") && reference.indexOf("/", 8) < 0) return reference;
  return PATIENT_REF.exec(reference)?.[1] ?? reference;
}

/**
 * A mapper for one site's resources under `cdm`.
 *
 * @example
 * const mapper = createFhirMapper(defaultCdm);
 * for (const line of lines) mapper.addLine(line);
 * const { table, report } = mapper.finish();
 */
export function createFhirMapper(cdm: Cdm): FhirMapper {
  const c = compileCdm(cdm);
  const subjects = new Map<string, Subject>();
  const patientKeys: string[] = [];
  const aliases = new Map<string, string>();
  const resources: Record<string, ResourceCounts> = Object.create(null);
  const featureDropped: ReasonCounts[] = c.names.map(() => ({}));
  /** Sum of the readings each feature refused as out of range, in its unit. */
  const outOfRangeSum: number[] = c.names.map(() => 0);
  const acceptStatus = new Set<string>(cdm.observationStatus);
  let finished = false;

  const counts = (type: string): ResourceCounts => (resources[type] ??= { read: 0, used: 0, dropped: {} });
  const drop = (type: string, reason: DropReason) => bump(counts(type).dropped, reason);
  const subjectOf = (key: string): Subject => {
    let s = subjects.get(key);
    if (s === undefined) {
      s = { patient: undefined, state: newState(c), observations: 0, conditions: 0 };
      subjects.set(key, s);
    }
    return s;
  };

  function addPatient(raw: unknown, fullUrl: string | undefined): void {
    const parsed = PatientPart.safeParse(raw);
    if (!parsed.success) return drop("Patient", "invalid-resource");
    const p = parsed.data;
    if (p.birthDate !== undefined && Number.isNaN(parseFhirDateTime(p.birthDate))) return drop("Patient", "invalid-resource");
    const key = `Patient/${p.id}`;
    const s = subjectOf(key);
    if (s.patient !== undefined) return drop("Patient", "duplicate-patient");
    s.patient = p;
    patientKeys.push(key);
    if (fullUrl !== undefined && fullUrl !== key) aliases.set(fullUrl, key);
    counts("Patient").used++;
  }

  function addObservation(raw: unknown): void {
    const parsed = ObservationPart.safeParse(raw);
    if (!parsed.success) return drop("Observation", "invalid-resource");
    const o = parsed.data;
    const hits = c.observationCodes.match(o.code.coding);
    if (hits.length === 0) return drop("Observation", "unknown-code");
    if (!acceptStatus.has(o.status)) return drop("Observation", "excluded-status");
    const ref = o.subject?.reference;
    if (ref === undefined) return drop("Observation", "unknown-patient");
    const when = o.effectiveDateTime ?? o.effectiveInstant ?? o.effectivePeriod?.start ?? o.effectivePeriod?.end;
    if (when === undefined) return drop("Observation", "missing-date");
    const time = parseFhirDateTime(when);
    if (Number.isNaN(time)) return drop("Observation", "invalid-resource");
    let first: DropReason | undefined;
    let subject: Subject | undefined;
    for (const at of hits) {
      const slot = c.slots[at]!;
      const value = slot.kind === "quantity" ? quantityValue(slot, o) : slot.kind === "coded" ? codedValue(slot, o) : "unknown-code";
      const reason = typeof value === "number" ? (time < slot.from || time > slot.to ? "outside-window" : undefined) : value;
      if (reason !== undefined) {
        bump(featureDropped[slot.owner]!, reason);
        if (reason === "out-of-range" && slot.kind === "quantity") outOfRangeSum[slot.owner]! += convertedQuantity(slot, o) ?? 0;
        first ??= reason;
        continue;
      }
      subject ??= subjectOf(subjectKey(ref));
      pushSlot(subject.state, at, slot.op, time, value as number);
    }
    if (subject === undefined) return drop("Observation", first ?? "unknown-code");
    subject.observations++;
  }

  function addCondition(raw: unknown): void {
    const parsed = ConditionPart.safeParse(raw);
    if (!parsed.success) return drop("Condition", "invalid-resource");
    const d = parsed.data;
    const hits = c.conditionCodes.match(d.code?.coding);
    if (hits.length === 0) return drop("Condition", "unknown-code");
    if (d.verificationStatus?.coding?.some((v) => v.code !== undefined && EXCLUDED_VERIFICATION.has(v.code))) return drop("Condition", "excluded-status");
    const ref = d.subject.reference;
    if (ref === undefined) return drop("Condition", "unknown-patient");
    const when = d.onsetDateTime ?? d.onsetPeriod?.start ?? d.recordedDate;
    if (when === undefined) return drop("Condition", "missing-date");
    const time = parseFhirDateTime(when);
    if (Number.isNaN(time)) return drop("Condition", "invalid-resource");
    let subject: Subject | undefined;
    for (const at of hits) {
      const slot = c.slots[at]!;
      if (time < slot.from || time > slot.to) {
        bump(featureDropped[slot.owner]!, "outside-window");
        continue;
      }
      subject ??= subjectOf(subjectKey(ref));
      pushSlot(subject.state, at, "presence", time, 1);
    }
    if (subject === undefined) return drop("Condition", "outside-window");
    subject.conditions++;
  }

  function addBundle(raw: unknown): void {
    const parsed = BundlePart.safeParse(raw);
    if (!parsed.success) return drop("Bundle", "invalid-resource");
    counts("Bundle").used++;
    for (const e of parsed.data.entry ?? []) add(e.resource, e.fullUrl);
  }

  function add(resource: unknown, fullUrl?: string): void {
    const type = typeof resource === "object" && resource !== null ? (resource as { resourceType?: unknown }).resourceType : undefined;
    const key = typeof type === "string" ? type : "unknown";
    if (finished) throw new Error("the mapper has finished; create a new one for more resources");
    counts(key).read++;
    switch (key) {
      case "Patient":
        return addPatient(resource, fullUrl);
      case "Observation":
        return addObservation(resource);
      case "Condition":
        return addCondition(resource);
      case "Bundle":
        return addBundle(resource);
      case "unknown":
        return drop(key, "invalid-resource");
      default:
        return drop(key, "unsupported-type");
    }
  }

  function addLine(line: string): void {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    add(value);
  }

  function finish(): FhirTable {
    if (finished) throw new Error("the mapper has finished already");
    finished = true;
    for (const [key, s] of subjects) {
      if (s.patient !== undefined) continue;
      const target = subjects.get(aliases.get(key) ?? key);
      if (target?.patient !== undefined) {
        c.slots.forEach((slot, at) => mergeSlot(target.state, s.state, at, slot.op));
        target.observations += s.observations;
        target.conditions += s.conditions;
      } else {
        if (s.observations > 0) bump(counts("Observation").dropped, "unknown-patient", s.observations);
        if (s.conditions > 0) bump(counts("Condition").dropped, "unknown-patient", s.conditions);
      }
      s.observations = s.conditions = 0;
    }
    let observations = 0;
    let conditions = 0;
    const rows: string[][] = [];
    const patientIds: string[] = [];
    const features: FeatureCounts[] = c.names.map((_, k) => {
      const refused = featureDropped[k]!["out-of-range"] ?? 0;
      return { present: 0, missing: 0, dropped: featureDropped[k]!, ...(refused > 0 && outOfRangeSum[k] !== 0 && { outOfRangeMean: outOfRangeSum[k]! / refused }) };
    });
    for (const key of patientKeys) {
      const s = subjects.get(key)!;
      observations += s.observations;
      conditions += s.conditions;
      const row = c.names.map((_, k) => cell(c, s, k, features[k]!.dropped));
      row.forEach((v, k) => (v === "" ? features[k]!.missing++ : features[k]!.present++));
      rows.push(row);
      patientIds.push(s.patient!.id);
    }
    if (observations > 0) counts("Observation").used += observations;
    if (conditions > 0) counts("Condition").used += conditions;
    const labelAt = c.names.length - 1;
    const label = features[labelAt]!;
    const positive = rows.filter((r) => r[labelAt] === "1").length;
    return {
      table: { columns: [...c.names], rows },
      patientIds,
      report: {
        patients: rows.length,
        resources: { ...resources },
        features: Object.fromEntries(cdm.features.map((f, k) => [f.name, features[k]!])),
        label: { name: cdm.label.name, positive, negative: label.present - positive, missing: label.missing, dropped: label.dropped },
      },
    };
  }

  return { add, addLine, finish };
}

function newState(c: CompiledCdm): Float64Array {
  const state = new Float64Array(2 * c.slots.length);
  c.slots.forEach((slot, at) => initSlot(state, at, slot.op));
  return state;
}

/** The cell of feature (or label) `k`; "" when missing, with Patient-element problems counted. */
function cell(c: CompiledCdm, s: Subject, k: number, dropped: ReasonCounts): string {
  const at = c.slotOf[k]!;
  if (at >= 0) {
    const slot = c.slots[at]!;
    const v = readSlot(s.state, at, slot.op);
    if (Number.isNaN(v)) return "";
    if (k === c.names.length - 1 && c.cdm.label.kind === "observation") {
      const l = c.cdm.label;
      return (l.above !== undefined ? v > l.above : v < (l.below ?? Number.NEGATIVE_INFINITY)) ? "1" : "0";
    }
    return formatNumber(v);
  }
  const f = c.cdm.features[k]!;
  const p = s.patient!;
  if (f.source.kind === "age") {
    if (p.birthDate === undefined) return bump(dropped, "missing-value"), "";
    const age = ageInYears(p.birthDate, c.indexMs);
    const range = f.type === "numeric" ? f.range : undefined;
    if (range !== undefined && (age < range.min || age > range.max)) return bump(dropped, "out-of-range"), "";
    return String(age);
  }
  if (p.gender === undefined) return bump(dropped, "missing-value"), "";
  if (f.type === "categorical") return f.levels.includes(p.gender) ? p.gender : (bump(dropped, "out-of-range"), "");
  if (f.type === "binary" && f.levels !== undefined) {
    const i = f.levels.indexOf(p.gender);
    return i < 0 ? (bump(dropped, "out-of-range"), "") : String(i);
  }
  return "";
}

/** Twelve significant digits: 5.17 × 38.67 is "199.9239", not "199.92390000000003". */
function formatNumber(v: number): string {
  return String(Number(v.toPrecision(12)));
}
