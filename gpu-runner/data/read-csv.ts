/**
 * @module
 * A hospital's CSV read without changing its meaning silently: gzip recognised by its bytes,
 * UTF-8 or else Windows-1252, the delimiter detected (comma, semicolon, tab) or forced, decimal
 * commas in semicolon and tab files, and numbers that carry one consistent unit ("258 mg/dL") read
 * as numbers with the unit recorded. Whatever the reader did is in `CsvFile.notes`; what it could
 * not read is an error naming the file, the line and the remedy.
 */
import { createReadStream } from "node:fs";
import { open, readFile, stat } from "node:fs/promises";
import { createGunzip, gunzipSync } from "node:zlib";
import { parse } from "csv-parse/sync";
import type { Table } from "../../core/preprocess/table.ts";
import { DEFAULT_MISSING_TOKENS } from "../../core/schemas/feature-spec.ts";

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
  /** The most text the file may hold (default MAX_TEXT_BYTES). */
  readonly maxBytes?: number;
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
  /** Columns whose numbers carried this unit, now plain numbers. */
  readonly units: Readonly<Record<string, string>>;
  /** Of a column with a unit: how many of its numbers carried it (the others were plain numbers). */
  readonly unitCells: Readonly<Record<string, { readonly carried: number; readonly numbers: number }>>;
  /** Columns whose numbers cannot be read without guessing (several units; a comma that may be a thousands separator), and why: left as text, for the caller to refuse. */
  readonly unreadable: Readonly<Record<string, string>>;
}


/** A number, with a decimal point or (in semicolon and tab files) comma, then optionally a unit. */
const CELL = /^([+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:[eE][+-]?\d+)?)(\s*)([A-Za-zµμ°%][A-Za-z0-9µμ°%/^.·*-]*)?$/;

/**
 * A unit rather than a code: written after a space, or longer than one character, or a percent.
 * "258 mg/dL", "75kg", "12%" carry units; "1a" and "2b" are stages.
 */
const unitLike = (unit: string, spaced: boolean) => spaced || unit.length > 1 || unit === "%";

/** A column this share (or more) numbers is read as numbers; its other cells stay text, for the caller to name. */
const MOSTLY = 0.8;

/** How a column's numbers are written, when most of its cells are numbers with a decimal comma or a unit. */
interface ColumnRead {
  readonly comma: boolean;
  readonly unit?: string;
  /** Cells that carried the unit, of the cells read as numbers. */
  readonly carried: number;
  readonly numbers: number;
  /** Why the column's numbers cannot be read without guessing (left as text). */
  readonly problem?: string;
}

/**
 * What one column's cells are. Null when it is not mostly numbers, or its numbers are plain (no
 * decimal comma, no unit): nothing to do.
 */
function readColumn(cells: readonly string[], delimiter: Delimiter, missing: readonly string[]): ColumnRead | null {
  let present = 0;
  const numbers: { number: string; unit?: string }[] = [];
  for (const raw of cells) {
    const cell = raw.trim();
    if (missing.includes(cell)) continue;
    present++;
    const m = CELL.exec(cell);
    if (!m) continue;
    const [, number = "", space = "", unit] = m;
    if (unit !== undefined && !unitLike(unit, space.length > 0)) continue;
    numbers.push({ number, ...(unit !== undefined && { unit }) });
  }
  if (numbers.length === 0 || numbers.length < MOSTLY * present) return null;
  const commas = numbers.filter((n) => n.number.includes(","));
  const units = [...new Set(numbers.flatMap((n) => (n.unit === undefined ? [] : [n.unit])))];
  const carried = numbers.length - numbers.filter((n) => n.unit === undefined).length;
  const base = { comma: commas.length > 0, carried, numbers: numbers.length };
  if (units.length > 1) return { ...base, problem: `its numbers carry different units (${units.join(", ")})` };
  if (commas.length > 0) {
    const examples = commas.slice(0, 2).map((n) => n.number).join(", ");
    if (delimiter === ",") return { ...base, problem: `numbers written with a comma (${examples}) in a comma-separated file: a decimal comma or a thousands separator cannot be told apart here; export with a decimal point, or with semicolons between fields` };
    if (numbers.some((n) => n.number.includes("."))) return { ...base, problem: `numbers written both with a decimal comma and with a point (${examples}, ${numbers.find((n) => n.number.includes("."))?.number}): one of them may be a thousands separator` };
    if (commas.every((n) => /,\d{3}$/.test(n.number))) return { ...base, problem: `numbers written with a comma and three digits after it (${examples}): a decimal comma or a thousands separator cannot be told apart; write them with a decimal point` };
  }
  if (units.length === 0 && commas.length === 0) return null;
  return { ...base, ...(units[0] !== undefined && { unit: units[0] }) };
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
  const duplicate = duplicateOf(columns);
  if (duplicate !== undefined) throw new Error(`the header names column "${duplicate}" twice`);
  if (records.length === 0) throw new Error(`the file has a header row (${columns.length} columns) but no rows`);
  const rows = records.map((r) => r.record);
  const missing = options.missing ?? DEFAULT_MISSING_TOKENS;
  const decimalComma: string[] = [];
  // No prototype: a column may be called "constructor" or "__proto__".
  const units: Record<string, string> = Object.create(null);
  const unitCells: Record<string, { carried: number; numbers: number }> = Object.create(null);
  const unreadable: Record<string, string> = Object.create(null);
  columns.forEach((column, j) => {
    const read = readColumn(rows.map((r) => r[j] ?? ""), d, missing);
    if (!read) return;
    if (read.problem !== undefined) {
      unreadable[column] = read.problem;
      return;
    }
    if (read.comma) decimalComma.push(column);
    if (read.unit !== undefined) {
      units[column] = read.unit;
      unitCells[column] = { carried: read.carried, numbers: read.numbers };
    }
    // Numbers become plain numbers; a cell that is not one stays as it was, for the caller to name.
    for (const row of rows) {
      const cell = (row[j] ?? "").trim();
      if (missing.includes(cell)) continue;
      const m = CELL.exec(cell);
      if (m?.[1] !== undefined && (m[3] === undefined || unitLike(m[3], (m[2] ?? "").length > 0))) row[j] = m[1].replace(",", ".");
    }
  });
  return { table: { columns, rows }, delimiter, decimalComma, units, unitCells, unreadable };
}

/** The first name that occurs twice, in one pass. */
export function duplicateOf(names: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) return n;
    seen.add(n);
  }
  return undefined;
}

/** Parses CSV text into a table of strings (see `parseCsvText`). */
export function parseCsv(text: string, options: CsvOptions = {}): Table {
  return parseCsvText(text, options).table;
}

const GZIP = [0x1f, 0x8b];
const ZIP = [0x50, 0x4b, 0x03, 0x04];
const startsWith = (bytes: Uint8Array, magic: readonly number[]) => magic.every((b, i) => bytes[i] === b);

/**
 * The most text one file may hold: a JavaScript string holds at most about 512 MiB, and a file
 * past this is split rather than read half.
 */
export const MAX_TEXT_BYTES = 500 * 2 ** 20;
const MB = (bytes: number) => (bytes >= 2 ** 20 ? `${Math.round(bytes / 2 ** 20)} MB` : `${bytes} bytes`);

/** Bytes as text: UTF-8, or else (and only when they are not UTF-8) Windows-1252. */
function text(bytes: Uint8Array): { text: string; latin1: boolean } {
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), latin1: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ERR_ENCODING_INVALID_ENCODED_DATA") throw err;
    return { text: new TextDecoder("windows-1252").decode(bytes), latin1: true };
  }
}

/** Refuses what is not CSV text: zip archives (and spreadsheets), binary bytes. */
function checkText(bytes: Uint8Array): void {
  if (startsWith(bytes, ZIP)) throw new Error("is a zip archive (an .xlsx spreadsheet is one too): save or extract it as a .csv file");
  if (bytes.subarray(0, 65536).includes(0)) throw new Error("holds binary bytes, not text: is it a CSV file? (a compressed CSV must be gzip)");
}

/** The file's text: gunzipped when its bytes say gzip (whatever its name), at most MAX_TEXT_BYTES. */
async function readText(path: string, max: number): Promise<{ text: string; gzip: boolean; latin1: boolean }> {
  const size = (await stat(path)).size;
  if (size > max) throw new Error(`is ${MB(size)}, more than the ${MB(max)} one file may hold: split it into several files`);
  const raw = await readFile(path);
  const gzip = startsWith(raw, GZIP);
  let bytes: Uint8Array = raw;
  if (gzip) {
    try {
      bytes = gunzipSync(raw, { maxOutputLength: max });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || err instanceof RangeError) throw new Error(`decompresses to more than the ${MB(max)} one file may hold: split it into several files`);
      throw new Error(`starts like a gzip file but cannot be decompressed (${(err as Error).message})`);
    }
  }
  checkText(bytes);
  return { ...text(bytes), gzip };
}

/** The first bytes of the file's text (gunzipped as it is read), up to the end of its first line or `limit`. */
async function readHead(path: string, limit: number): Promise<Uint8Array> {
  const first = new Uint8Array(2);
  const handle = await open(path);
  try {
    await handle.read(first, 0, 2, 0);
  } finally {
    await handle.close();
  }
  const source = createReadStream(path);
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    const stream = startsWith(first, GZIP) ? source.pipe(createGunzip()) : source;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= limit || chunk.includes(0x0a)) break;
    }
  } finally {
    source.destroy();
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

/** Reads a CSV file (gzip-compressed or not); every fault names the file. */
export async function readCsvFile(path: string, options: CsvOptions = {}): Promise<CsvFile> {
  try {
    const { text, gzip, latin1 } = await readText(path, options.maxBytes ?? MAX_TEXT_BYTES);
    return { ...parseCsvText(text, options), gzip, latin1 };
  } catch (err) {
    throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The longest header row read (a header past it is refused). */
const MAX_HEADER_BYTES = 8 * 2 ** 20;

/** The header row of a CSV file alone: only its first line is read. */
export async function readCsvHeader(path: string, options: Pick<CsvOptions, "delimiter"> = {}): Promise<{ columns: string[]; delimiter: DelimiterName }> {
  try {
    const head = await readHead(path, MAX_HEADER_BYTES);
    checkText(head);
    const end = head.indexOf(0x0a);
    if (end < 0 && head.length >= MAX_HEADER_BYTES) throw new Error(`its first line is longer than ${MB(MAX_HEADER_BYTES)}: is it a CSV file?`);
    const line = text(end < 0 ? head : head.subarray(0, end + 1)).text;
    const delimiter = options.delimiter ?? detectDelimiter(line);
    const [columns = []] = parse(line, { skip_empty_lines: true, trim: true, bom: true, delimiter: DELIMITERS[delimiter], relax_column_count: true, to: 1 }) as string[][];
    if (columns.length === 0 || (columns.length === 1 && columns[0] === "")) throw new Error("the file is empty: no header row");
    const duplicate = duplicateOf(columns);
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
  for (const [column, unit] of Object.entries(csv.units)) {
    const cells = csv.unitCells[column];
    const every = !cells || cells.carried === cells.numbers ? "in every value" : `in ${cells.carried} of its ${cells.numbers} numbers (the others taken to be in ${unit} too)`;
    notes.push(`${file}: column ${column} carries the unit ${unit} ${every}: read as numbers in ${unit}`);
  }
  return notes;
}
