import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { parse } from "csv-parse/sync";
import type { Table } from "../../core/preprocess/table.ts";

export interface CsvOptions {
  /** Column names for a file without a header row. */
  readonly columns?: readonly string[];
}

/** Parses CSV text into a table of strings; ragged rows are an error that names the line. */
export function parseCsv(text: string, options: CsvOptions = {}): Table {
  const records = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: false, bom: true }) as string[][];
  const columns = options.columns ? [...options.columns] : (records.shift() ?? []);
  if (columns.length === 0) throw new Error("CSV has no columns");
  records.forEach((r, i) => {
    if (r.length !== columns.length) throw new Error(`CSV row ${i + 1} has ${r.length} fields, expected ${columns.length}`);
  });
  return { columns, rows: records };
}

/** Reads a CSV file (optionally gzip-compressed). */
export async function readCsv(path: string, options: CsvOptions = {}): Promise<Table> {
  const raw = await readFile(path);
  const text = (path.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8");
  try {
    return parseCsv(text, options);
  } catch (err) {
    throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
