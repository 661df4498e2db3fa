/**
 * @module
 * A feature spec for a file seen for the first time, that says what it decided: the label rule
 * (which value is positive, and why), the columns left out (dates) and every column it cannot use,
 * each with its reason and remedy, in one error.
 */
import { labelKey } from "../../core/preprocess/label.ts";
import { columnIndex, isMissing, type Table } from "../../core/preprocess/table.ts";
import { DEFAULT_MISSING_TOKENS, RESERVED_FEATURE_NAMES, type FeatureSpec, type LabelDef } from "../../core/schemas/feature-spec.ts";

const MAX_LEVELS = 50;
/** A column this share numbers, the rest text, is a numeric column with stray text, not a categorical one. */
const MOSTLY_NUMBERS = 0.8;

/** Label values that say "positive" and "negative" by themselves (compared case-folded). */
const POSITIVE_WORDS = new Set(["yes", "y", "true", "t", "positive", "pos", "present", "+", "1"]);
const NEGATIVE_WORDS = new Set(["no", "n", "false", "f", "negative", "neg", "absent", "-", "0"]);

export interface InferOptions {
  readonly label: string;
  /** The label value that means "positive"; needed unless the label is 0/1-like (numbers from 0) or yes/no-like. */
  readonly positive?: string;
  /**
   * A K-class label: its classes in order (the first the reference), or "auto" for every value the
   * column takes (numbers in order, else names in order). Not with `positive`.
   */
  readonly classes?: readonly string[] | "auto";
  readonly ignore?: readonly string[];
  /** Cells that mean "not recorded", on top of DEFAULT_MISSING_TOKENS. */
  readonly missing?: readonly string[];
  /** Units the reader found (`CsvFile.units`): recorded on the features. */
  readonly units?: Readonly<Record<string, string>>;
  /** Columns whose numbers the reader could not read without guessing, and why (`CsvFile.unreadable`): refused. */
  readonly unreadable?: Readonly<Record<string, string>>;
}

/** A column the consortium cannot use as it is, why, and what to do. */
export interface ColumnProblem {
  readonly column: string;
  readonly reason: string;
  readonly remedy: string;
}

/** Every column that could not be used, in one error (one line each). */
export class ColumnProblems extends Error {
  override readonly name = "ColumnProblems";
  constructor(readonly problems: readonly ColumnProblem[]) {
    super(`${problems.length} column${problems.length === 1 ? "" : "s"} cannot be used as they are:\n${problems.map((p) => `  ${p.column}: ${p.reason}; ${p.remedy}`).join("\n")}`);
  }
}

/** A spec, and what inferring it decided that the user should hear. */
export interface InferredSpec {
  readonly spec: FeatureSpec;
  readonly notes: readonly string[];
}

const DATE = /^(\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}( \d{1,2}:\d{2}(:\d{2})?)?)$/;
const ID_NAME = /(^|[_\s-])(id|mrn|nr|no|number|key)$|^(id|mrn)([_\s-]|$)|patient|record|encounter|admission_?no/i;
/** A record's own value for a key (a column may be called "constructor"). */
const own = <T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined => (record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined);
const isNumber = (v: string) => v.trim() !== "" && Number.isFinite(Number(v.trim()));

function quoteSome(values: Iterable<string>, n = 3): string {
  const all = [...values];
  return `${all.slice(0, n).map((v) => `"${v}"`).join(", ")}${all.length > n ? ", …" : ""}`;
}

/** A K-class label rule over the values a column takes (`named`, most frequent first), with what it left out. */
function classesLabel(column: string, named: readonly { key: string; name: string; rows: number }[], asked: readonly string[] | "auto"): { def: LabelDef; notes: string[] } {
  const byKey = new Map(named.map((g) => [g.key, g]));
  const numeric = named.every((g) => isNumber(g.key));
  const ordered = [...named].sort((a, b) => (numeric ? Number(a.key) - Number(b.key) : a.name.localeCompare(b.name)));
  const classes = asked === "auto" ? ordered.map((g) => g.name) : [...asked];
  if (classes.length < 3) throw new Error(`label "${column}" ${asked === "auto" ? `takes ${classes.length} values` : `lists ${classes.length} classes`}: a K-class label needs at least 3 (2 classes are a binary label: use --positive)`);
  const absent = classes.filter((c) => !byKey.has(labelKey(c)));
  if (absent.length > 0) throw new Error(`label "${column}" never takes the class${absent.length === 1 ? "" : "es"} ${absent.map((c) => `"${c}"`).join(", ")} (values: ${named.slice(0, 8).map((g) => g.name).join(", ")}${named.length > 8 ? ", …" : ""})`);
  const keys = new Set(classes.map(labelKey));
  const others = named.filter((g) => !keys.has(g.key));
  const notes = [`label ${column}: ${classes.length} classes, ${classes.join(", ")} (the first, ${classes[0]}, is the reference)`];
  if (others.length > 0) notes.push(`label ${column}: ${others.reduce((n, g) => n + g.rows, 0)} rows of values not among the classes (${quoteSome(others.map((g) => g.name))}) are left out`);
  return { def: { column, classes }, notes };
}

/** The label rule for the column, and what the rule merged or chose. */
function inferLabel(table: Table, options: InferOptions, missing: readonly string[]): { def: LabelDef; notes: string[] } {
  const col = columnIndex(table, options.label);
  const values = table.rows.map((r) => (r[col] ?? "").trim()).filter((v) => !missing.includes(v));
  // Spellings by case-folded value, most frequent first; the first spelling names the value.
  const groups = new Map<string, Map<string, number>>();
  for (const v of values) {
    const g = groups.get(labelKey(v)) ?? new Map<string, number>();
    g.set(v, (g.get(v) ?? 0) + 1);
    groups.set(labelKey(v), g);
  }
  const named = [...groups.entries()].map(([key, g]) => {
    const spellings = [...g.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    return { key, name: spellings[0]?.[0] ?? key, rows: spellings.reduce((n, [, c]) => n + c, 0) };
  }).sort((x, y) => y.rows - x.rows || x.name.localeCompare(y.name));
  const listed = named.map((g) => `"${g.name}" (${g.rows} row${g.rows === 1 ? "" : "s"})`).join(", ");
  const column = options.label;
  if (named.length === 0) throw new Error(`label "${column}" has no values: every row's label is missing`);
  if (options.classes !== undefined) return classesLabel(column, named, options.classes);
  if (options.positive !== undefined) {
    const key = labelKey(options.positive);
    // A mistyped value would silently make every label negative.
    if (!groups.has(key)) throw new Error(`label "${column}" never takes the value "${options.positive}" (values: ${named.slice(0, 5).map((g) => g.name).join(", ")}${named.length > 5 ? ", …" : ""})`);
    const others = named.filter((g) => g.key !== key);
    if (others.length === 0) throw new Error(`label "${column}" takes only the value "${options.positive}": a model needs both outcomes`);
    if (others.length > 1) {
      return { def: { column, positive: [options.positive] }, notes: [`label ${column} has ${named.length} values (${listed}): "${options.positive}" is positive, every other value negative`] };
    }
    return { def: { column, positive: [options.positive], negative: [others[0]?.name ?? ""] }, notes: [] };
  }
  if (named.every((g) => isNumber(g.key))) {
    const numbers = named.map((g) => Number(g.key)).sort((a, b) => a - b);
    if (numbers.length < 2) throw new Error(`label "${column}" takes only the value ${numbers[0]}: a model needs both outcomes`);
    // 0/1: both listed, so a value another site codes otherwise (1/2, yes/no) is left out and counted, not read as one class.
    if (numbers.length === 2 && numbers[0] === 0 && numbers[1] === 1) return { def: { column, positive: ["1"], negative: ["0"] }, notes: [] };
    if (numbers[0] === 0 && numbers.every((n) => Number.isInteger(n) && n >= 0)) {
      return { def: { column, positiveAbove: 0 }, notes: [`label ${column} takes the values ${numbers.join(", ")}: positive = ${column} > 0 (pass --positive VALUE for one value only)`] };
    }
    throw new Error(`label "${column}" holds numbers (${listed}) that are not a 0/1 or 0/1/2… coding: pass --positive VALUE to say which value means the outcome`);
  }
  if (named.length !== 2) throw new Error(`label "${column}" has ${named.length} values (${listed}): pass --positive VALUE to say which value means the outcome`);
  const [a, b] = named as [(typeof named)[0], (typeof named)[0]];
  const says = (g: typeof a, words: Set<string>) => words.has(g.key);
  const positive = says(a, POSITIVE_WORDS) && says(b, NEGATIVE_WORDS) ? a : says(b, POSITIVE_WORDS) && says(a, NEGATIVE_WORDS) ? b : null;
  if (!positive) throw new Error(`label "${column}" has the values ${listed}, neither of which says "positive" by itself: pass --positive VALUE to say which means the outcome`);
  const negative = positive === a ? b : a;
  return { def: { column, positive: [positive.name], negative: [negative.name] }, notes: [] };
}

/**
 * Why a column cannot be used as it is, or null. Dates are not refused here: they are left out
 * with a note (`inferSpec`).
 */
function columnProblem(column: string, present: readonly string[], options: InferOptions): ColumnProblem | null {
  if (RESERVED_FEATURE_NAMES.includes(column)) return { column, reason: "its name is one a feature cannot have", remedy: `rename the column, or pass --ignore ${column}` };
  const unreadable = own(options.unreadable, column);
  if (unreadable !== undefined) return { column, reason: unreadable, remedy: `write them in one form (one unit, a decimal point), or pass --ignore ${column}` };
  const numbers = present.filter(isNumber);
  const distinct = new Set(present);
  if (numbers.length === present.length) {
    const ints = numbers.map(Number);
    const wholeDistinct = present.length >= 20 && distinct.size === present.length && ints.every(Number.isInteger);
    // Row numbers (a run of 100 or more), or whole numbers all different under an identifier's name.
    const run = wholeDistinct && ints.length >= 100 && Math.max(...ints) - Math.min(...ints) + 1 === ints.length;
    if (wholeDistinct && (run || ID_NAME.test(column))) return { column, reason: "whole numbers, every one different (an identifier?)", remedy: `pass --ignore ${column}` };
    return null;
  }
  const text = present.filter((v) => !isNumber(v));
  if (present.length >= 5 && numbers.length >= MOSTLY_NUMBERS * present.length) {
    const stray = [...new Set(text)];
    return {
      column,
      reason: `${text.length} of ${present.length} values are not numbers (${quoteSome(stray)})`,
      remedy: `if they mean "not recorded", pass --missing ${stray.slice(0, 3).join(",")}; otherwise clean them, or pass --ignore ${column}`,
    };
  }
  if (distinct.size > MAX_LEVELS) {
    if (distinct.size === present.length) return { column, reason: `every one of its ${present.length} values is different (an identifier, or free text?)`, remedy: `pass --ignore ${column}` };
    return { column, reason: `${distinct.size} different text values, more than the ${MAX_LEVELS} levels a categorical feature may have (free text, or a fine-grained code?)`, remedy: `group its values into at most ${MAX_LEVELS} levels, or pass --ignore ${column}` };
  }
  return null;
}

/**
 * Every column but the label and the ignored ones: numeric when every present value is a number
 * (with its unit, when the reader found one), categorical otherwise; date columns left out.
 * @throws ColumnProblems naming every column that cannot be used; Error for a label it cannot read.
 */
export function inferSpec(table: Table, options: InferOptions): InferredSpec {
  const ignore = new Set(options.ignore ?? []);
  for (const c of [options.label, ...ignore]) columnIndex(table, c);
  const missing = [...DEFAULT_MISSING_TOKENS, ...(options.missing ?? [])];
  const features: FeatureSpec["features"] = [];
  const notes: string[] = [];
  const problems: ColumnProblem[] = [];
  const dates: string[] = [];
  table.columns.forEach((column, j) => {
    if (column === options.label || ignore.has(column)) return;
    const present = table.rows.map((r) => (r[j] ?? "").trim()).filter((v) => !isMissing(v, missing, []));
    if (present.length === 0) {
      notes.push(`column ${column} has no values: left out`);
      return;
    }
    if (present.every((v) => DATE.test(v))) {
      dates.push(column);
      return;
    }
    const problem = columnProblem(column, present, options);
    if (problem) {
      problems.push(problem);
      return;
    }
    const numeric = present.every(isNumber);
    const unit = numeric ? own(options.units, column) : undefined;
    features.push({ name: column, column, type: numeric ? "numeric" : "categorical", missing: [], ...(unit !== undefined && { unit }) });
  });
  if (dates.length > 0) notes.push(`${dates.length === 1 ? "column" : "columns"} ${dates.join(", ")} ${dates.length === 1 ? "holds dates" : "hold dates"}: left out (derive a feature such as an age or a length of stay from ${dates.length === 1 ? "it" : "them"} before training, or pass --ignore to silence this)`);
  // The label's problems come first: without a label nothing else matters.
  const label = inferLabel(table, options, missing);
  if (problems.length > 0) throw new ColumnProblems(problems);
  if (features.length === 0) throw new Error(`no usable feature columns: every column but the label is ignored, empty or a date (${table.columns.join(", ")})`);
  return { spec: { features, label: label.def, missingTokens: missing }, notes: [...label.notes, ...notes] };
}

/** The spec alone (see `inferSpec`). */
export function inferFeatureSpec(table: Table, options: InferOptions): FeatureSpec {
  return inferSpec(table, options).spec;
}
