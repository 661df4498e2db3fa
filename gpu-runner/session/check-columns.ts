/**
 * @module
 * What a site's own columns make of the consortium's spec, checked when the spec arrives: the
 * label column must be there; a feature column that is not is imputed (said, with the remedy);
 * a column whose values carried another unit than the consortium's is refused.
 */
import { ConsiliumError } from "../../core/errors.ts";
import { z } from "zod";
import { summariseLabels } from "../../core/preprocess/label.ts";
import { missingShares } from "../../core/preprocess/missing-summary.ts";
import { computeSiteStats } from "../../core/preprocess/site-stats.ts";
import type { Table } from "../../core/preprocess/table.ts";
import type { FeatureDef, FeatureSpec } from "../../core/schemas/feature-spec.ts";
import { LabelSummary } from "../../core/schemas/label-summary.ts";

/** How this site's columns meet the spec. */
export interface ColumnCheck {
  /** Features whose column this site lacks: it provides no value of them, and imputes them. */
  readonly absent: readonly FeatureDef[];
  /** This site's columns the spec does not name (candidates for --map). */
  readonly unused: readonly string[];
  /** Where this site's units and the spec's cannot be compared: said, not refused. */
  readonly unitWarnings: readonly string[];
  /** Features whose column holds plain numbers here where the spec declares a unit: taken to be in it. */
  readonly assumedUnits: readonly { readonly column: string; readonly unit: string }[];
}

const list = (names: readonly string[]) => names.join(", ");

/**
 * @throws ConsiliumError LABEL_COLUMN_MISSING when the label column is not among the site's
 * columns; UNIT_MISMATCH when a column carried another unit than the spec's.
 */
export function checkColumns(table: Table, spec: FeatureSpec, units: Readonly<Record<string, string>> = {}): ColumnCheck {
  const named = new Set([spec.label.column, ...spec.features.map((f) => f.column)]);
  const unused = table.columns.filter((c) => !named.has(c));
  if (!table.columns.includes(spec.label.column)) {
    throw new ConsiliumError(
      "LABEL_COLUMN_MISSING",
      `this site's rows have no column "${spec.label.column}", the consortium's label (columns here: ${list(table.columns)}); if one of yours holds it, map it: --map YOURS=${spec.label.column}`,
      422,
    );
  }
  const unitOf = (column: string) => (Object.hasOwn(units, column) ? units[column] : undefined);
  const mismatched = spec.features.filter((f) => f.unit !== undefined && unitOf(f.column) !== undefined && unitOf(f.column) !== f.unit);
  if (mismatched.length > 0) {
    throw new ConsiliumError("UNIT_MISMATCH", mismatched.map((f) => `column ${f.column} is in ${unitOf(f.column)} here, the consortium's ${f.name} in ${f.unit}: convert it before joining`).join("; "), 422);
  }
  const unitWarnings: string[] = [];
  const assumedUnits: { column: string; unit: string }[] = [];
  for (const f of spec.features) {
    if (f.type !== "numeric" || !table.columns.includes(f.column)) continue;
    const here = unitOf(f.column);
    if (f.unit !== undefined && here === undefined) assumedUnits.push({ column: f.column, unit: f.unit });
    if (f.unit === undefined && here !== undefined) unitWarnings.push(`column ${f.column} is in ${here} here, and the consortium declares no unit for ${f.name}: every site must measure it in ${here} (a data dictionary can declare it)`);
  }
  return { absent: spec.features.filter((f) => !table.columns.includes(f.column)), unused, unitWarnings, assumedUnits };
}

/** The warning for features this site lacks, with the columns it could map. */
export function absentLine(check: ColumnCheck): string | null {
  if (check.absent.length === 0) return null;
  const names = check.absent.map((f) => f.column);
  const hint = check.unused.length > 0 ? `; this site's columns the consortium does not use: ${list(check.unused)}: if one holds the same measurement, map it, e.g. --map ${check.unused[0]}=${names[0]}` : "";
  return `the consortium's column${names.length === 1 ? "" : "s"} ${list(names)} ${names.length === 1 ? "is" : "are"} not in this site's rows: this site provides no value of ${names.length === 1 ? "it" : "them"} and imputes ${names.length === 1 ? "it" : "them"}${hint}`;
}

const count = z.number().int().nonnegative();

/** What the spec's label rule and features make of this site's training rows, for the site to print; crosses a worker-thread boundary in simulations. */
export const DataSummary = z.object({
  label: LabelSummary,
  missing: z.array(z.object({ feature: z.string(), missing: count, rows: count, imputed: z.string() })),
  /** Columns of plain numbers taken to be in the consortium's declared unit. */
  assumedUnits: z.array(z.object({ column: z.string(), unit: z.string() })).default([]),
});
export type DataSummary = z.infer<typeof DataSummary>;

/** The one line saying which plain-number columns are taken to be in the consortium's units, or null. */
export function assumedUnitsLine(assumed: readonly { readonly column: string; readonly unit: string }[]): string | null {
  if (assumed.length === 0) return null;
  return `plain numbers taken to be in the consortium's units: ${assumed.map((a) => `${a.column} in ${a.unit}`).join(", ")}`;
}

export function summariseSiteData(table: Table, spec: FeatureSpec, check: ColumnCheck): DataSummary {
  const col = table.columns.indexOf(spec.label.column);
  const label = summariseLabels(table.rows.map((r) => r[col] ?? ""), spec.label, spec.missingTokens);
  return DataSummary.parse({ label, missing: missingShares(computeSiteStats(table, spec), spec, check.absent.map((f) => f.name)), assumedUnits: check.assumedUnits });
}
