/**
 * @module
 * Code systems and code sets as a common data model names them: a coding matches a set entry by
 * system and exact code, or by system and code prefix (ICD-10 "I21" covers "I21.9" and "I219").
 */
import { z } from "zod";

export const LOINC = "http://loinc.org";
export const SNOMED_CT = "http://snomed.info/sct";
export const ICD10 = "http://hl7.org/fhir/sid/icd-10";
export const ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm";
export const UCUM = "http://unitsofmeasure.org";

/** One entry of a code set: an exact code, or every code of the system that starts with `prefix`. */
export const CodeMatch = z.union([
  z.strictObject({ system: z.string().min(1), code: z.string().min(1) }),
  z.strictObject({ system: z.string().min(1), prefix: z.string().min(1) }),
]);
export type CodeMatch = z.infer<typeof CodeMatch>;

export const loinc = (code: string): CodeMatch => ({ system: LOINC, code });
export const snomed = (code: string): CodeMatch => ({ system: SNOMED_CT, code });
/** ICD-10 by prefix under both the WHO and the US (CM) system URIs, which sites use interchangeably. */
export const icd10 = (prefix: string): CodeMatch[] => [
  { system: ICD10, prefix },
  { system: ICD10_CM, prefix },
];

export interface Coding {
  readonly system?: string | undefined;
  readonly code?: string | undefined;
}

/**
 * Index from codings to the ids of the code sets they belong to. Exact codes are one map lookup;
 * prefixes are scanned per system (code sets hold a handful of them).
 */
export class CodeIndex {
  /** system → code → ids. */
  private readonly exact = new Map<string, Map<string, number[]>>();
  private readonly prefixes = new Map<string, { prefix: string; id: number }[]>();

  add(id: number, set: readonly CodeMatch[]): void {
    for (const m of set) {
      if ("code" in m) {
        const codes = this.exact.get(m.system) ?? new Map<string, number[]>();
        const ids = codes.get(m.code) ?? [];
        if (!ids.includes(id)) ids.push(id);
        codes.set(m.code, ids);
        this.exact.set(m.system, codes);
      } else {
        const list = this.prefixes.get(m.system) ?? [];
        list.push({ prefix: m.prefix, id });
        this.prefixes.set(m.system, list);
      }
    }
  }

  /** Ids of every set that any of `codings` belongs to, in ascending order, without repeats. */
  match(codings: readonly Coding[] | undefined): number[] {
    const out: number[] = [];
    if (codings === undefined) return out;
    for (const c of codings) {
      if (c.system === undefined || c.code === undefined) continue;
      const hit = this.exact.get(c.system)?.get(c.code);
      if (hit !== undefined) for (const id of hit) if (!out.includes(id)) out.push(id);
      const list = this.prefixes.get(c.system);
      if (list !== undefined) for (const p of list) if (c.code.startsWith(p.prefix) && !out.includes(p.id)) out.push(p.id);
    }
    return out.length > 1 ? out.sort((a, b) => a - b) : out;
  }
}

/** Whether any of `codings` is in `set`. */
export function inCodeSet(codings: readonly Coding[] | undefined, set: readonly CodeMatch[]): boolean {
  const index = new CodeIndex();
  index.add(0, set);
  return index.match(codings).length > 0;
}
