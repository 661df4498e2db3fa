/**
 * @module
 * Helpers for the FHIR tests: small resources written the way sites send them, and a plain
 * logistic regression (full-batch gradient descent on standardised inputs) to check that a mapped
 * table carries the synthetic model's signal.
 */
import type { Condition, Observation, Patient } from "fhir/r4.js";
import type { Table } from "../../core/preprocess/table.ts";
import { LOINC, SNOMED_CT, UCUM } from "../../core/fhir/codes.ts";

export const patient = (id: string, birthDate?: string, gender?: Patient["gender"]): Patient => ({
  resourceType: "Patient",
  id,
  ...(birthDate === undefined ? {} : { birthDate }),
  ...(gender === undefined ? {} : { gender }),
});

export const quantityObs = (subject: string, code: string, when: string | undefined, value: number | undefined, unit: string | undefined, extra: Partial<Observation> = {}): Observation => ({
  resourceType: "Observation",
  status: "final",
  code: { coding: [{ system: LOINC, code }] },
  subject: { reference: subject },
  ...(when === undefined ? {} : { effectiveDateTime: when }),
  ...(value === undefined && unit === undefined ? {} : { valueQuantity: { ...(value === undefined ? {} : { value }), ...(unit === undefined ? {} : { unit, system: UCUM, code: unit }) } }),
  ...extra,
});

export const codedObs = (subject: string, code: string, when: string, answer: string): Observation => ({
  resourceType: "Observation",
  status: "final",
  code: { coding: [{ system: LOINC, code }] },
  subject: { reference: subject },
  effectiveDateTime: when,
  valueCodeableConcept: { coding: [{ system: SNOMED_CT, code: answer }] },
});

export const condition = (subject: string, system: string, code: string, onset: string | undefined, extra: Partial<Condition> = {}): Condition => ({
  resourceType: "Condition",
  code: { coding: [{ system, code }] },
  subject: { reference: subject },
  ...(onset === undefined ? {} : { onsetDateTime: onset }),
  ...extra,
});

/** Column `name` of `table` as numbers (NaN where empty). */
export function column(table: Table, name: string): number[] {
  const j = table.columns.indexOf(name);
  if (j < 0) throw new Error(`no column ${name}`);
  return table.rows.map((r) => (r[j] === "" || r[j] === undefined ? Number.NaN : Number(r[j])));
}

export const median = (xs: readonly number[]): number => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * Logistic regression of `label` on `features` over the rows where all are present: inputs
 * standardised, full-batch gradient descent. Returns each coefficient per unit of its feature.
 */
export function fitLogistic(table: Table, features: readonly string[], label: string, iterations = 400, rate = 0.5): { coefficients: Record<string, number>; rows: number } {
  const cols = features.map((f) => column(table, f));
  const y = column(table, label);
  const keep = y.map((_, i) => i).filter((i) => !Number.isNaN(y[i]!) && cols.every((c) => !Number.isNaN(c[i]!)));
  const n = keep.length;
  const d = features.length;
  const mean = cols.map((c) => keep.reduce((a, i) => a + c[i]!, 0) / n);
  const sd = cols.map((c, j) => Math.sqrt(keep.reduce((a, i) => a + (c[i]! - mean[j]!) ** 2, 0) / n) || 1);
  const x = new Float64Array(n * d);
  keep.forEach((i, r) => cols.forEach((c, j) => (x[r * d + j] = (c[i]! - mean[j]!) / sd[j]!)));
  const w = new Float64Array(d);
  let b = 0;
  const grad = new Float64Array(d);
  for (let it = 0; it < iterations; it++) {
    grad.fill(0);
    let gb = 0;
    for (let r = 0; r < n; r++) {
      let z = b;
      for (let j = 0; j < d; j++) z += w[j]! * x[r * d + j]!;
      const e = 1 / (1 + Math.exp(-z)) - y[keep[r]!]!;
      gb += e;
      for (let j = 0; j < d; j++) grad[j] = grad[j]! + e * x[r * d + j]!;
    }
    b -= (rate * gb) / n;
    for (let j = 0; j < d; j++) w[j] = w[j]! - (rate * grad[j]!) / n;
  }
  return { coefficients: Object.fromEntries(features.map((f, j) => [f, w[j]! / sd[j]!])), rows: n };
}
