/**
 * @module
 * The label rule every site applies alike, from the federation's spec: which values are positive,
 * which negative, which mean "no label"; and a count of what the rule did to a site's rows, so a
 * run can say which value was positive, which spellings it merged and which rows it left out.
 */
import type { LabelDef } from "../schemas/feature-spec.ts";
import type { LabelSummary } from "../schemas/label-summary.ts";
import { canonicalLevel } from "./table.ts";

/** The form label values compare in: trimmed, numbers canonical, case folded ("YES" is "yes", "1.0" is "1"). */
export function labelKey(value: string): string {
  return canonicalLevel(value).toLowerCase();
}

/**
 * 1, 0, or null when the row has no label: a missing token, a non-number where a threshold is
 * asked for, or (where the spec lists negative values) a value in neither list. For a K-class
 * label, the class's index (0 … K−1), or null for a value not among the classes.
 */
export function labelOf(value: string, def: LabelDef, missingTokens: readonly string[]): number | null {
  const t = value.trim();
  if (missingTokens.includes(t)) return null;
  if (def.classes !== undefined) {
    const key = labelKey(t);
    const at = def.classes.findIndex((c) => labelKey(c) === key);
    return at < 0 ? null : at;
  }
  if (def.positiveAbove !== undefined) {
    const n = Number(t);
    if (t === "" || !Number.isFinite(n)) return null;
    return n > def.positiveAbove ? 1 : 0;
  }
  const key = labelKey(t);
  if ((def.positive ?? []).some((p) => labelKey(p) === key)) return 1;
  if (def.negative === undefined || def.negative.some((p) => labelKey(p) === key)) return 0;
  return null;
}

/** How many classes the label has: 2 for a binary rule. */
export const classCount = (def: LabelDef): number => def.classes?.length ?? 2;

/** The rule's positive side in words (for K classes: every class but the first, the reference). */
export const positiveRule = (def: LabelDef): string =>
  def.positiveAbove !== undefined ? `> ${def.positiveAbove}` : def.classes !== undefined ? def.classes.slice(1).join(", ") : (def.positive ?? []).join(", ");

/** Counts what `labelOf` makes of `values` (one per row), and which values were spelled several ways. */
export function summariseLabels(values: readonly string[], def: LabelDef, missingTokens: readonly string[]): LabelSummary {
  let positives = 0;
  let negatives = 0;
  let unlabelled = 0;
  let unrecognised = 0;
  const unrecognisedValues = new Set<string>();
  const spellings = new Map<string, Map<string, number>>();
  const perClass = new Array<number>(def.classes?.length ?? 0).fill(0);
  for (const raw of values) {
    const t = raw.trim();
    const label = labelOf(t, def, missingTokens);
    if (missingTokens.includes(t)) unlabelled++;
    else if (label === null) {
      unrecognised++;
      if (unrecognisedValues.size < 5) unrecognisedValues.add(t);
    } else if (label > 0) positives++;
    else negatives++;
    if (label !== null && def.classes) perClass[label]! += 1;
    if (label === null) continue;
    const key = labelKey(t);
    const seen = spellings.get(key) ?? new Map<string, number>();
    seen.set(t, (seen.get(t) ?? 0) + 1);
    spellings.set(key, seen);
  }
  const merged: LabelSummary["merged"][number][] = [];
  for (const seen of spellings.values()) {
    if (seen.size < 2) continue;
    // The most frequent spelling names the value; the rows are those written otherwise.
    const [first, ...others] = [...seen.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    // Canonical numbers ("1" and "1.0") are one value by design; only text spellings are worth a word.
    if (!first || Number.isFinite(Number(first[0]))) continue;
    merged.push({ value: first[0], spellings: others.map(([s]) => s), rows: others.reduce((n, [, c]) => n + c, 0) });
  }
  return { column: def.column, positive: positiveRule(def), rows: values.length, positives, negatives, unlabelled, unrecognised, unrecognisedValues: [...unrecognisedValues], merged, ...(def.classes && { classes: def.classes.map((value, i) => ({ value, rows: perClass[i] ?? 0 })) }) };
}

const share = (part: number, whole: number) => (whole === 0 ? "" : ` (${((100 * part) / whole).toFixed(1)} %)`);

/** The summary as lines to print: the label counts line first, then one line for each thing that changed the data. */
export function labelLines(s: LabelSummary): string[] {
  const used = s.positives + s.negatives;
  const rule = s.positive.startsWith(">") ? `${s.column} ${s.positive}` : s.positive;
  const lines = s.classes
    ? [`label ${s.column}: ${s.classes.length} classes over ${used} labelled rows: ${s.classes.map((c) => `${c.value} ${c.rows}`).join(", ")}`]
    : [`label ${s.column}: positive = ${rule}: ${s.positives} of ${used} labelled rows${share(s.positives, used)}`];
  for (const m of s.merged) lines.push(`label ${s.column}: ${m.spellings.map((x) => `"${x}"`).join(", ")} read as "${m.value}" (${m.rows} row${m.rows === 1 ? "" : "s"}; values differing only in case or spaces are one value)`);
  if (s.unlabelled > 0) lines.push(`label ${s.column}: ${s.unlabelled} of ${s.rows} rows have no label (blank or a missing token) and are left out`);
  if (s.classes) {
    const absent = s.classes.filter((c) => c.rows === 0).map((c) => c.value);
    if (used > 0 && absent.length > 0) lines.push(`label ${s.column}: no row of class${absent.length === 1 ? "" : "es"} ${absent.join(", ")} here`);
  } else if (used > 0 && (s.positives === 0 || s.negatives === 0)) {
    lines.push(`label ${s.column}: every one of the ${used} labelled rows is ${s.positives === 0 ? "negative" : "positive"}: is the label coded as the consortium's rule says (positive = ${rule})?`);
  }
  if (s.unrecognised > 0) lines.push(`label ${s.column}: ${s.unrecognised} row${s.unrecognised === 1 ? " has" : "s have"} a label that is ${s.classes ? "none of the classes" : "neither positive nor negative"} (${s.unrecognisedValues.map((v) => `"${v}"`).join(", ")}) and are left out`);
  return lines;
}
