/**
 * @module
 * A consortium's data dictionary: one row per column of its agreed CSV, saying what the column is
 * (numeric, categorical, the label, a date, an identifier, or to be ignored), its unit, its
 * expected range, its levels and its own "not recorded" values. With it, a feature spec is made
 * from a file's header alone: no row is read.
 *
 * The dictionary is a CSV (a spreadsheet saved as CSV) with a header row naming some of:
 * `column,type,unit,min,max,levels,missing,impute,positive,negative,description`; lists (levels,
 * missing, positive, negative) are separated by `|`; the label's `positive` may be `>N`.
 */
import { z } from "zod";
import { columnIndex, type Table } from "../../core/preprocess/table.ts";
import { DEFAULT_MISSING_TOKENS, FeatureDef, LabelDef, type FeatureSpec } from "../../core/schemas/feature-spec.ts";
import { ColumnProblems, type ColumnProblem } from "./infer-spec.ts";

const FIELDS = ["column", "type", "unit", "min", "max", "levels", "missing", "impute", "positive", "negative", "description"] as const;
const TYPES = ["numeric", "categorical", "label", "date", "id", "ignore"] as const;

const optionalText = z
  .string()
  .transform((s) => s.trim())
  .transform((s) => (s === "" ? undefined : s))
  .optional();
const list = optionalText.transform((s) => (s === undefined ? undefined : s.split("|").map((x) => x.trim()).filter((x) => x !== "")));
const number = optionalText.pipe(
  z
    .string()
    .regex(/^[+-]?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?$/, "expected a number")
    .transform(Number)
    .optional(),
);

/** One row of the dictionary. */
export const DictionaryRow = z.object({
  column: z.string().transform((s) => s.trim()).pipe(z.string().min(1, "every row needs a column name")),
  type: z
    .string()
    .transform((s) => s.trim().toLowerCase())
    .pipe(z.enum(TYPES, { error: `expected one of ${TYPES.join(", ")}` })),
  unit: optionalText,
  min: number,
  max: number,
  levels: list,
  missing: list,
  impute: optionalText.pipe(z.enum(["mean", "median"], { error: "expected mean or median" }).optional()),
  positive: optionalText,
  negative: list,
  description: optionalText,
});
export type DictionaryRow = z.infer<typeof DictionaryRow>;

/**
 * The dictionary's rows, checked; every fault names its line and field.
 * @throws Error listing every bad row and unknown field.
 */
export function parseDictionary(table: Table, file: string): DictionaryRow[] {
  const unknown = table.columns.filter((c) => !(FIELDS as readonly string[]).includes(c.trim().toLowerCase()));
  if (unknown.length > 0) throw new Error(`${file}: unknown dictionary field${unknown.length === 1 ? "" : "s"} ${unknown.join(", ")} (fields: ${FIELDS.join(", ")})`);
  for (const required of ["column", "type"]) if (!table.columns.some((c) => c.trim().toLowerCase() === required)) throw new Error(`${file}: a dictionary needs the field ${required} (fields: ${FIELDS.join(", ")})`);
  const faults: string[] = [];
  const rows: DictionaryRow[] = [];
  table.rows.forEach((row, i) => {
    const record = Object.fromEntries(table.columns.map((c, j) => [c.trim().toLowerCase(), row[j] ?? ""]));
    const parsed = DictionaryRow.safeParse(record);
    // The header is line 1.
    if (parsed.success) rows.push(parsed.data);
    else faults.push(...parsed.error.issues.map((issue) => `  row ${i + 2} (${record.column || "?"}): ${issue.path.join(".")}: ${issue.message}`));
  });
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const r of rows) (seen.has(r.column) ? twice : seen).add(r.column);
  for (const n of twice) faults.push(`  column ${n} is described twice`);
  if (faults.length > 0) throw new Error(`${file}: ${faults.length} fault${faults.length === 1 ? "" : "s"}:\n${faults.join("\n")}`);
  return rows;
}

/** The label rule from the dictionary's label row (or --positive): `>N`, or listed values. */
function labelRule(row: DictionaryRow, positive: string | undefined): LabelDef {
  const given = positive ?? row.positive;
  if (given === undefined) throw new Error(`the dictionary's label row (${row.column}) gives no positive value: add one (e.g. yes, or >0) or pass --positive VALUE`);
  const threshold = /^>\s*([+-]?\d+(\.\d+)?)$/.exec(given);
  if (threshold) return LabelDef.parse({ column: row.column, positiveAbove: Number(threshold[1]) });
  const values = given.split("|").map((v) => v.trim()).filter(Boolean);
  return LabelDef.parse({ column: row.column, positive: values, ...(row.negative && { negative: row.negative }) });
}

export interface DictionarySpecOptions {
  /** The label column; the dictionary's label row when absent. */
  readonly label?: string;
  readonly positive?: string;
  readonly ignore?: readonly string[];
}

/**
 * A feature spec from a file's header and the dictionary: every header column described, every
 * described column in the header; one error lists all that is not so, with the remedy.
 */
export function specFromDictionary(header: readonly string[], rows: readonly DictionaryRow[], o: DictionarySpecOptions = {}): { spec: FeatureSpec; notes: string[] } {
  const byColumn = new Map(rows.map((r) => [r.column, r]));
  const ignore = new Set(o.ignore ?? []);
  const problems: ColumnProblem[] = [];
  for (const c of ignore) if (!header.includes(c)) columnIndex({ columns: header, rows: [] }, c);
  for (const c of header) {
    if (!byColumn.has(c) && !ignore.has(c) && c !== o.label) problems.push({ column: c, reason: "not described in the dictionary", remedy: `add a row for it (type numeric, categorical, date, id or ignore), or pass --ignore ${c}` });
  }
  for (const r of rows) {
    if (!header.includes(r.column)) problems.push({ column: r.column, reason: "described in the dictionary but not in the file's header (mistyped?)", remedy: "correct the name in the dictionary or in the file" });
  }
  const labelRows = rows.filter((r) => r.type === "label");
  const labelRow: DictionaryRow | undefined = o.label !== undefined ? { ...(byColumn.get(o.label) ?? DictionaryRow.parse({ column: o.label, type: "label" })), type: "label" } : labelRows[0];
  if (!labelRow) throw new Error("no label: give --label COLUMN or a dictionary row of type label");
  if (o.label === undefined && labelRows.length > 1) throw new Error(`the dictionary has ${labelRows.length} rows of type label (${labelRows.map((r) => r.column).join(", ")}): keep one, or pass --label COLUMN`);
  if (!header.includes(labelRow.column)) columnIndex({ columns: header, rows: [] }, labelRow.column);
  const features: FeatureDef[] = [];
  const notes: string[] = [];
  for (const c of header) {
    const r = byColumn.get(c);
    if (!r || c === labelRow.column || ignore.has(c)) continue;
    if (r.type === "date" || r.type === "id" || r.type === "ignore" || r.type === "label") {
      notes.push(`column ${c} (${r.type}) is not a feature`);
      continue;
    }
    const def = FeatureDef.safeParse({
      name: c,
      column: c,
      type: r.type,
      missing: r.missing ?? [],
      ...(r.unit !== undefined && { unit: r.unit }),
      ...(r.min !== undefined && r.max !== undefined && { range: { min: r.min, max: r.max } }),
      ...(r.levels !== undefined && { levels: r.levels }),
      ...(r.impute !== undefined && { impute: r.impute }),
    });
    if (def.success) features.push(def.data);
    else problems.push({ column: c, reason: def.error.issues.map((i) => `${i.path.join(".") || "row"}: ${i.message}`).join("; "), remedy: "correct its dictionary row" });
    if ((r.min === undefined) !== (r.max === undefined)) notes.push(`column ${c}: the dictionary gives only one end of its range, so no range is declared`);
  }
  if (problems.length > 0) throw new ColumnProblems(problems);
  if (features.length === 0) throw new Error("the dictionary leaves no feature: describe at least one column as numeric or categorical");
  const label = labelRule(labelRow, o.positive);
  if (label.positive !== undefined && label.negative === undefined) {
    notes.push(`the label ${label.column} lists no negative value: at every site, any value but ${label.positive.join(", ")} is read as negative; list the negative values (negative field) to have other values left out and counted instead`);
  }
  const extra = (byColumn.get(labelRow.column)?.missing ?? []).filter((m) => !DEFAULT_MISSING_TOKENS.includes(m));
  return { spec: { features, label, missingTokens: [...DEFAULT_MISSING_TOKENS, ...extra] }, notes };
}
