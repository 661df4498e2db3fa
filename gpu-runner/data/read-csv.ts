/**
 * @module
 * A hospital's CSV read without changing its meaning silently: gzip recognised by its bytes,
 * UTF-8 or else Windows-1252, the delimiter detected (comma, semicolon, tab) or forced, decimal
 * commas in semicolon and tab files, and numbers that carry one consistent unit ("258 mg/dL") read
 * as numbers with the unit recorded. Whatever the reader did is in `CsvFile.notes`; what it could
 * not read is an error naming the file, the line and the remedy.
 */
import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { parse } from "csv-parse/sync";
import type { Table } from "../../core/preprocess/table.ts";

export const DELIMITERS = { comma: ",", semicolon: ";", tab: "\t" } as const;
export type DelimiterName = keyof typeof DELIMITERS;
type Delimiter = (typeof DELIMITERS)[DelimiterName];

export interface CsvOptions {
  /** Column names for a file without a header row. */
  readonly columns?: readonly string[];
  /** Forces the delimiter instead of detecting it from the header row. */
  readonly delimiter?: DelimiterName;
  /** Cells that mean "not recorded" (default "", NA, ?); never read as numbers or units. */
  readonly missing?: readonly string[];
}

/** A CSV as read, with what the reader did to it. */
export interface CsvFile {
  readonly table: Table;
  readonly delimiter: DelimiterName;
  readonly gzip: boolean;
  /** The text was not UTF-8 and was read as Windows-1252. */
  readonly latin1: boolean;
  /** Columns whose numbers were written with a decimal comma (now a point). */
  readonly decimalComma: readonly string[];
  /** Columns whose every value carried this unit, now plain numbers. */
  readonly units: Readonly<Record<string, string>>;
  /** Columns whose numbers carry different units: left as text, for the caller to refuse. */
  readonly mixedUnits: Readonly<Record<string, readonly string[]>>;
}

const MISSING = ["", "NA", "?"];

/** A number, with a decimal point or (in semicolon and tab files) comma, then optionally a unit. */
const CELL = /^([+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:[eE][+-]?\d+)?)(\s*)([A-Za-zµμ°%][A-Za-z0-9µμ°%/^.·*-]*)?$/;

/**
 * A unit rather than a code: written after a space, or longer than one character, or a percent.
 * "258 mg/dL", "75kg", "12%" carry units; "1a" and "2b" are stages.
 */
const unitLike = (unit: string, spaced: boolean) => spaced || unit.length > 1 || unit === "%";

/** What one column's cells are: plain numbers, numbers with one unit, numbers with several, or text. */
function readColumn(cells: readonly string[], delimiter: Delimiter, missing: readonly string[]) {
  let comma = false;
  const units = new Set<string>();
  for (const raw of cells) {
    const cell = raw.trim();
    if (missing.includes(cell)) continue;
    const m = CELL.exec(cell);
    if (!m) return null;
    const [, number = "", space = "", unit] = m;
    if (number.includes(",")) {
      if (delimiter === ",") return null;
      comma = true;
    }
    if (unit !== undefined) {
      if (!unitLike(unit, space.length > 0)) return null;
      units.add(unit);
    }
  }
  return { comma, units: [...units] };
}

/** Which delimiter the header row uses: the candidate it holds most often, outside quotes. */
export function detectDelimiter(text: string): DelimiterName {
  const header = text.replace(/^\uFEFF/, "").split(/\r?\n/).find((l) => l.trim() !== "") ?? "";
  const counts: Record<DelimiterName, number> = { comma: 0, semicolon: 0, tab: 0 };
  let quoted = false;
  for (const ch of header) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted) for (const [name, d] of Object.entries(DELIMITERS) as [DelimiterName, Delimiter][]) if (ch === d) counts[name]++;
  }
  const best = (Object.entries(counts) as [DelimiterName, number][]).reduce((a, b) => (b[1] > a[1] ? b : a));
  return best[1] === 0 ? "comma" : best[0];
}

/**
 * Parses CSV text into a table of strings; ragged rows are an error that names the line.
 * Numbers are not interpreted here, except that decimal commas and a column's one unit are
 * normalised (see `CsvFile`).
 */
export function parseCsvText(text: string, options: CsvOptions = {}): Omit<CsvFile, "gzip" | "latin1"> {
  const delimiter = options.delimiter ?? detectDelimiter(text);
  const d = DELIMITERS[delimiter];
  const records = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: true, bom: true, delimiter: d, info: true }) as unknown as { record: string[]; info: { lines: number } }[];
  const first = options.columns ? undefined : records.shift();
  const columns = options.columns ? [...options.columns] : (first?.record ?? []);
  if (columns.length === 0 || (columns.length === 1 && columns[0] === "")) throw new Error("the file is empty: no header row");
  const forced = options.delimiter ? "" : `; the delimiter was taken to be ${delimiter} from the header row (force one with --delimiter comma|semicolon|tab)`;
  for (const { record, info } of records) {
    const expected = options.columns ? `${columns.length} columns are named` : `the header has ${columns.length}`;
    if (record.length !== columns.length) throw new Error(`line ${info.lines} has ${record.length} field${record.length === 1 ? "" : "s"} where ${expected}${forced}`);
  }
  const duplicate = columns.find((c, i) => columns.indexOf(c) !== i);
  if (duplicate !== undefined) throw new Error(`the header names column "${duplicate}" twice`);
  if (records.length === 0) throw new Error(`the file has a header row (${columns.length} columns) but no rows`);
  const rows = records.map((r) => r.record);
  const missing = options.missing ?? MISSING;
  const decimalComma: string[] = [];
  const units: Record<string, string> = {};
  const mixedUnits: Record<string, string[]> = {};
  columns.forEach((column, j) => {
    const read = readColumn(rows.map((r) => r[j] ?? ""), d, missing);
    if (!read || (!read.comma && read.units.length === 0)) return;
    if (read.units.length > 1) {
      mixedUnits[column] = read.units;
      return;
    }
    if (read.comma) decimalComma.push(column);
    if (read.units[0] !== undefined) units[column] = read.units[0];
    for (const row of rows) {
      const cell = (row[j] ?? "").trim();
      if (missing.includes(cell)) continue;
      const m = CELL.exec(cell);
      row[j] = (m?.[1] ?? cell).replace(",", ".");
    }
  });
  return { table: { columns, rows }, delimiter, decimalComma, units, mixedUnits };
}

/** Parses CSV text into a table of strings (see `parseCsvText`). */
export function parseCsv(text: string, options: CsvOptions = {}): Table {
  return parseCsvText(text, options).table;
}

const GZIP = [0x1f, 0x8b];
const ZIP = [0x50, 0x4b, 0x03, 0x04];
const startsWith = (bytes: Uint8Array, magic: readonly number[]) => magic.every((b, i) => bytes[i] === b);

/** The file's text: gunzipped when its bytes say gzip (whatever its name), UTF-8 or else Windows-1252. */
function decode(raw: Uint8Array): { text: string; gzip: boolean; latin1: boolean } {
  const gzip = startsWith(raw, GZIP);
  let bytes = raw;
  if (gzip) {
    try {
      bytes = gunzipSync(raw);
    } catch (err) {
      throw new Error(`starts like a gzip file but cannot be decompressed (${(err as Error).message})`);
    }
  }
  if (startsWith(bytes, ZIP)) throw new Error("is a zip archive (an .xlsx spreadsheet is one too): save or extract it as a .csv file");
  if (bytes.subarray(0, 65536).includes(0)) throw new Error("holds binary bytes, not text: is it a CSV file? (a compressed CSV must be gzip)");
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), gzip, latin1: false };
  } catch {
    return { text: new TextDecoder("windows-1252").decode(bytes), gzip, latin1: true };
  }
}

/** Reads a CSV file (gzip-compressed or not); every fault names the file. */
export async function readCsvFile(path: string, options: CsvOptions = {}): Promise<CsvFile> {
  try {
    const { text, gzip, latin1 } = decode(await readFile(path));
    return { ...parseCsvText(text, options), gzip, latin1 };
  } catch (err) {
    throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The header row of a CSV file alone: no row is parsed. */
export async function readCsvHeader(path: string, options: Pick<CsvOptions, "delimiter"> = {}): Promise<{ columns: string[]; delimiter: DelimiterName }> {
  try {
    const { text } = decode(await readFile(path));
    const delimiter = options.delimiter ?? detectDelimiter(text);
    const [columns = []] = parse(text, { skip_empty_lines: true, trim: true, bom: true, delimiter: DELIMITERS[delimiter], relax_column_count: true, to: 1 }) as string[][];
    if (columns.length === 0 || (columns.length === 1 && columns[0] === "")) throw new Error("the file is empty: no header row");
    const duplicate = columns.find((c, i) => columns.indexOf(c) !== i);
    if (duplicate !== undefined) throw new Error(`the header names column "${duplicate}" twice`);
    return { columns, delimiter };
  } catch (err) {
    throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Reads a CSV file into a table (see `readCsvFile` for what the reader reports). */
export async function readCsv(path: string, options: CsvOptions = {}): Promise<Table> {
  return (await readCsvFile(path, options)).table;
}

/** What the reader did to a file, one line each; nothing when it read plain UTF-8 comma-separated text. */
export function readingNotes(file: string, csv: CsvFile): string[] {
  const notes: string[] = [];
  const how = [csv.gzip && "gzip-compressed", csv.latin1 && "not UTF-8, read as Windows-1252", csv.delimiter !== "comma" && `${csv.delimiter}-separated`].filter(Boolean);
  if (how.length > 0) notes.push(`${file}: ${how.join(", ")}`);
  if (csv.decimalComma.length > 0) notes.push(`${file}: decimal commas read as points in ${csv.decimalComma.join(", ")}`);
  for (const [column, unit] of Object.entries(csv.units)) notes.push(`${file}: column ${column} carries the unit ${unit} in every value: read as numbers in ${unit}`);
  return notes;
}
