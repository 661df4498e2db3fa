/**
 * @module
 * Whole datasets spread over simulated hospitals, for `consilium simulate`, the coordinator's
 * shipped feature specs and the benchmarks: the shipped ones (heart-disease's four real hospitals,
 * wdbc partitioned), a CSV partitioned by a split spec, or a FHIR directory of sites.
 */
import { cdmToFeatureSpec } from "../../core/fhir/cdm.ts";
import { defaultCdm } from "../../core/fhir/default-cdm.ts";
import { labelOf } from "../../core/preprocess/label.ts";
import { columnIndex, type Table } from "../../core/preprocess/table.ts";
import { seededRandom } from "../../core/random.ts";
import type { FeatureSpec } from "../../core/schemas/feature-spec.ts";
import { heartDiseaseSpec, loadHeartDisease, loadWdbc, wdbcSpec, type SiteData } from "./builtin-datasets.ts";
import { fhirSiteData, loadFhirSites, mappingNote } from "./fhir-sites.ts";
import { inferFeatureSpec } from "./infer-spec.ts";
import { parseSplit, partition, subset, trainTestSplit } from "./partition.ts";
import { readCsv } from "./read-csv.ts";

/** A dataset spread over sites, with the features the consortium agrees on. */
export interface LoadedData {
  readonly name: string;
  readonly sites: SiteData[];
  readonly features: FeatureSpec;
  /** What loading found worth saying per site (FHIR: resources that could not be used, by reason). */
  readonly notes?: readonly string[];
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
  const groups = partition(table, parseSplit(o.split), o.sites, label, rng);
  return groups.map((idx, k) => {
    const { train, test } = trainTestSplit(idx, (i) => label(table.rows[i] ?? []), o.testFraction, rng);
    return { name: `site-${String(k + 1).padStart(2, "0")}`, train: subset(table, train), test: subset(table, test) };
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
  throw new Error(`unknown dataset "${name}" (known: heart-disease, wdbc)`);
}

export interface CsvOptions extends PartitionOptions {
  readonly file: string;
  readonly label: string;
  readonly positive?: string;
  readonly ignore: readonly string[];
}

export async function loadCsvDataset(o: CsvOptions): Promise<LoadedData> {
  const table = await readCsv(o.file);
  const features = inferFeatureSpec(table, { label: o.label, positive: o.positive, ignore: o.ignore });
  return { name: o.file, sites: partitionTable(table, features, o), features };
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
