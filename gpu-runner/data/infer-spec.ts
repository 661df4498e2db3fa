import type { FeatureSpec, LabelDef } from "../../core/schemas/feature-spec.ts";
import { columnIndex, isMissing, type Table } from "../../core/preprocess/table.ts";

const MISSING = ["", "NA", "?"];
const MAX_LEVELS = 50;

export interface InferOptions {
  readonly label: string;
  /** The label value that means "positive"; without it, numbers above 0, or the rarer of two values. */
  readonly positive?: string;
  readonly ignore?: readonly string[];
}

function labelDef(table: Table, options: InferOptions): LabelDef {
  const col = columnIndex(table, options.label);
  const values = table.rows.map((r) => (r[col] ?? "").trim()).filter((v) => !MISSING.includes(v));
  if (options.positive !== undefined) {
    // A mistyped value would silently make every label negative.
    if (!values.includes(options.positive)) {
      const seen = [...new Set(values)];
      throw new Error(`label "${options.label}" never takes the value "${options.positive}" (values: ${seen.slice(0, 5).join(", ")}${seen.length > 5 ? ", …" : ""})`);
    }
    return { column: options.label, positive: [options.positive] };
  }
  if (values.every((v) => Number.isFinite(Number(v)))) return { column: options.label, positiveAbove: 0 };
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  if (counts.size !== 2) throw new Error(`label "${options.label}" has ${counts.size} values (${[...counts.keys()].slice(0, 5).join(", ")}…): pass --positive VALUE`);
  const [a, b] = [...counts.entries()].sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0]));
  return { column: options.label, positive: [(a ?? b)?.[0] ?? ""] };
}

/**
 * A feature spec for a file seen for the first time: every column but the label and the ignored
 * ones, numeric when every present value is a number, categorical otherwise.
 */
export function inferFeatureSpec(table: Table, options: InferOptions): FeatureSpec {
  const ignore = new Set(options.ignore ?? []);
  for (const c of [options.label, ...ignore]) columnIndex(table, c);
  const features: FeatureSpec["features"] = [];
  table.columns.forEach((column, j) => {
    if (column === options.label || ignore.has(column)) return;
    const present = table.rows.map((r) => r[j] ?? "").filter((v) => !isMissing(v, MISSING, []));
    if (present.length === 0) return;
    const numeric = present.every((v) => Number.isFinite(Number(v.trim())));
    if (!numeric && new Set(present).size > MAX_LEVELS) {
      throw new Error(`column "${column}" has more than ${MAX_LEVELS} distinct text values (an identifier?): pass --ignore ${column}`);
    }
    features.push({ name: column, column, type: numeric ? "numeric" : "categorical", missing: [] });
  });
  if (features.length === 0) throw new Error("no usable feature columns");
  return { features, label: labelDef(table, options), missingTokens: MISSING };
}
