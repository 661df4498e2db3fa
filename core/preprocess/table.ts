/** Raw rows as read from a site's file: every cell still a string, nothing interpreted yet. */
export interface Table {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** Index of a named column; a missing column is a configuration error the site must hear about. */
export function columnIndex(table: Table, column: string): number {
  const i = table.columns.indexOf(column);
  if (i < 0) throw new Error(`column "${column}" not found (have: ${table.columns.join(", ")})`);
  return i;
}

/** "1.0" and "1" are one category: numeric-looking values are written in canonical form. */
export function canonicalLevel(value: string): string {
  const t = value.trim();
  const n = Number(t);
  return t !== "" && Number.isFinite(n) ? String(n) : t;
}

/** A numeric cell's value; NaN for a blank cell, which `Number` would read as 0. */
export function numericValue(value: string): number {
  const t = value.trim();
  return t === "" ? Number.NaN : Number(t);
}

/** Per-feature values compare as levels, so a spec's "0" also catches "0.0" and the other way round. */
export function isMissing(value: string, tokens: readonly string[], extra: readonly string[]): boolean {
  const t = value.trim();
  if (tokens.includes(t)) return true;
  if (extra.length === 0) return false;
  const level = canonicalLevel(t);
  return extra.some((e) => canonicalLevel(e) === level);
}
