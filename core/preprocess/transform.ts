import type { Preprocessing } from "../schemas/preprocessing.ts";
import { labelOf } from "./label.ts";
import { canonicalLevel, columnIndex, isMissing, numericValue, type Table } from "./table.ts";

export interface Dataset {
  /** Row-major inputs, `rows × dim`. */
  readonly x: Float32Array;
  /** Each row's label: 0/1, or its class (0 … K−1) for a K-class label. */
  readonly y: Uint8Array;
  readonly rows: number;
  readonly dim: number;
}

/** Applies the consortium's preprocessing to a site's rows; rows without a label are dropped. */
export function applyPreprocessing(table: Table, prep: Preprocessing): Dataset {
  const labelCol = columnIndex(table, prep.label.column);
  const kept: { row: readonly string[]; label: number }[] = [];
  for (const row of table.rows) {
    const label = labelOf(row[labelCol] ?? "", prep.label, prep.missingTokens);
    if (label !== null) kept.push({ row, label });
  }
  const dim = prep.inputs.length;
  const x = new Float32Array(kept.length * dim);
  const y = new Uint8Array(kept.length);
  // A feature this site does not provide (no such column) is missing in every row, and imputed.
  const cols = prep.features.map((f) => table.columns.indexOf(f.column));
  kept.forEach(({ row, label }, r) => {
    y[r] = label;
    let j = r * dim;
    prep.features.forEach((f, k) => {
      const col = cols[k] ?? -1;
      const raw = col < 0 ? "" : (row[col] ?? "");
      const missing = col < 0 || isMissing(raw, prep.missingTokens, f.missing);
      if (f.kind === "numeric") {
        const v = numericValue(raw);
        const absent = missing || !Number.isFinite(v);
        x[j++] = absent ? (f.impute === undefined ? 0 : (f.impute - f.mean) / f.sd) : (v - f.mean) / f.sd;
        if (f.missingIndicator) x[j++] = absent ? 1 : 0;
      } else {
        const level = missing ? f.impute : canonicalLevel(raw);
        for (let l = 1; l < f.levels.length; l++) x[j++] = f.levels[l] === level ? 1 : 0;
      }
    });
  });
  return { x, y, rows: kept.length, dim };
}
