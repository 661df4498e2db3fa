/**
 * @module
 * Whole datasets spread over simulated hospitals, for `consilium simulate`, the coordinator's
 * shipped feature specs and the benchmarks: the shipped ones (heart-disease's four real hospitals,
 * wdbc partitioned), a CSV partitioned by a split spec, or a FHIR directory of sites.
 */
import { cdmToFeatureSpec } from "../../core/fhir/cdm.ts";
import { defaultCdm } from "../../core/fhir/default-cdm.ts";
import { labelLines, labelOf, summariseLabels } from "../../core/preprocess/label.ts";
import type { LabelSummary } from "../../core/schemas/label-summary.ts";
import { missingLines, missingShares } from "../../core/preprocess/missing-summary.ts";
import { computeSiteStats } from "../../core/preprocess/site-stats.ts";
import { columnIndex, type Table } from "../../core/preprocess/table.ts";
import { seededRandom } from "../../core/random.ts";
import type { FeatureSpec } from "../../core/schemas/feature-spec.ts";
import { digitsSpec, heartDiseaseSpec, loadDigits, loadHeartDisease, loadWdbc, wdbcSpec, type SiteData } from "./builtin-datasets.ts";
import { fhirSiteData, loadFhirSites, mappingNote } from "./fhir-sites.ts";
import { inferSpec } from "./infer-spec.ts";
import { loadImageFolder } from "./image-folder.ts";
import { DEFAULT_MISSING_TOKENS } from "../../core/schemas/feature-spec.ts";
import { parseSplit, partition, subset, trainTestSplit } from "./partition.ts";
import { readCsvFile, readingNotes, type DelimiterName } from "./read-csv.ts";

/** A dataset spread over sites, with the features the consortium agrees on. */
export interface LoadedData {
  readonly name: string;
  readonly sites: SiteData[];
  readonly features: FeatureSpec;
  /** What loading found worth saying (FHIR: resources that could not be used, by reason; CSV: how it was read, the label rule, dropped rows, imputed columns). */
  readonly notes?: readonly string[];
  /** What loading changed in the meaning of the data: merged label spellings, rows left out, heavily imputed features. */
  readonly warnings?: readonly string[];
  /** CSV: what the label rule made of the whole file. */
  readonly label?: LabelSummary;
}

export interface PartitionOptions {
  readonly sites: number;
  readonly split: string;
  readonly testFraction: number;
  readonly seed: number;
}

/** Spreads one table over simulated hospitals, each with its own stratified train/test split. */
export function partitionTable(table: Table, features: FeatureSpec, o: PartitionOptions): SiteData[] {
  const rng = seededRandom(o.seed);
  const col = columnIndex(table, features.label.column);
  const label = (row: readonly string[]) => String(labelOf(row[col] ?? "", features.label, features.missingTokens));
  const split = parseSplit(o.split);
  const groups = partition(table, split, o.sites, label, rng);
  // Split by a column, the sites are the column's values (in `partition`'s order: sorted).
  const names = split.kind === "column" ? splitValues(table, split.column) : undefined;
  return groups.map((idx, k) => {
    const { train, test } = trainTestSplit(idx, (i) => label(table.rows[i] ?? []), o.testFraction, rng);
    return { name: names?.[k] ?? `site-${String(k + 1).padStart(2, "0")}`, train: subset(table, train), test: subset(table, test) };
  });
}

export async function loadBuiltin(name: string, o: PartitionOptions): Promise<LoadedData> {
  if (name === "heart-disease") {
    return { name, sites: await loadHeartDisease(), features: heartDiseaseSpec };
  }
  if (name === "wdbc") {
    const table = await loadWdbc();
    const features = wdbcSpec(table);
    return { name, sites: partitionTable(table, features, o), features };
  }
  if (name === "digits") {
    const table = await loadDigits();
    return { name, sites: partitionTable(table, digitsSpec, o), features: digitsSpec };
  }
  throw new Error(`unknown dataset "${name}" (known: heart-disease, wdbc, digits)`);
}

export interface CsvOptions extends PartitionOptions {
  readonly file: string;
  readonly label: string;
  readonly positive?: string;
  /** A K-class label (`InferOptions.classes`). */
  readonly classes?: readonly string[] | "auto";
  readonly ignore: readonly string[];
  /** Cells that mean "not recorded", on top of "", NA and ?. */
  readonly missing?: readonly string[];
  readonly delimiter?: DelimiterName;
}

/** A split column's values, sorted as `partition` groups them; a blank value is named "(blank)". */
function splitValues(table: Table, column: string): string[] {
  const col = columnIndex(table, column);
  return [...new Set(table.rows.map((r) => r[col] ?? ""))].sort().map((v) => (v.trim() === "" ? "(blank)" : v));
}

/**
 * A CSV spread over simulated sites, with everything reading it decided said in `notes`: how the
 * file was read, the label rule and its counts, merged spellings, rows left out, columns left out,
 * and the missing share of each feature. A split column names the sites and is never a feature.
 */
export async function loadCsvDataset(o: CsvOptions): Promise<LoadedData> {
  const csv = await readCsvFile(o.file, { ...(o.delimiter && { delimiter: o.delimiter }), ...(o.missing && { missing: [...DEFAULT_MISSING_TOKENS, ...o.missing] }) });
  const { table } = csv;
  const split = parseSplit(o.split);
  const ignore = split.kind === "column" && split.column !== o.label ? [...new Set([...o.ignore, split.column])] : o.ignore;
  if (split.kind === "column") columnIndex(table, split.column);
  const { spec: features, notes } = inferSpec(table, { label: o.label, positive: o.positive, ...(o.classes && { classes: o.classes }), ignore, missing: o.missing, units: csv.units, unreadable: csv.unreadable });
  const labelCol = columnIndex(table, features.label.column);
  const label = summariseLabels(table.rows.map((r) => r[labelCol] ?? ""), features.label, features.missingTokens);
  const shares = missingShares(computeSiteStats(table, features), features);
  const [countsLine = "", ...labelChanges] = labelLines(label);
  const [missingSummary = "", ...missingWarnings] = missingLines(shares);
  return {
    name: o.file,
    sites: partitionTable(table, features, o),
    features,
    label,
    notes: [...readingNotes(o.file, csv), countsLine, ...notes, missingSummary],
    warnings: [...labelChanges, ...missingWarnings],
  };
}

export interface ImageOptions extends PartitionOptions {
  readonly dir: string;
  readonly positive?: string;
  readonly classes?: readonly string[] | "auto";
}

/**
 * A folder of PNG images with a labels CSV (`image-folder.ts`) spread over simulated sites like a
 * CSV: each image a row of pixel columns, the label read by the same rule (`--positive`,
 * `--classes`).
 */
export async function loadImageDataset(o: ImageOptions): Promise<LoadedData> {
  const folder = await loadImageFolder(o.dir);
  const label = folder.table.columns.at(-1)!;
  const { spec: features, notes } = inferSpec(folder.table, { label, positive: o.positive, ...(o.classes && { classes: o.classes }) });
  const summary = summariseLabels(folder.table.rows.map((r) => r.at(-1) ?? ""), features.label, features.missingTokens);
  const [countsLine = "", ...labelChanges] = labelLines(summary);
  return { name: o.dir, sites: partitionTable(folder.table, features, o), features, label: summary, notes: [...folder.notes, countsLine, ...notes], warnings: labelChanges };
}

export interface FhirOptions {
  readonly dir: string;
  readonly testFraction: number;
  readonly seed: number;
}

/**
 * A FHIR directory (`consilium synth` writes one): each subdirectory a hospital, its resources
 * mapped onto the common data model (`cdm.json` beside them, or the synthetic cohort's default),
 * then split into stratified training and held-out rows. The notes say, per site, how many
 * resources could not be used and why.
 */
export async function loadFhirDataset(o: FhirOptions): Promise<LoadedData> {
  const { cdm, sites } = await loadFhirSites(o.dir, defaultCdm);
  const features = cdmToFeatureSpec(cdm);
  const rng = seededRandom(o.seed);
  const split = sites.map(({ name, mapped }) => fhirSiteData(name, mapped, features, o.testFraction, rng));
  const notes = sites.map(({ name, mapped }) => mappingNote(name, mapped.report));
  return { name: o.dir, sites: split, features, notes };
}
