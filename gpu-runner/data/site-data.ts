/**
 * @module
 * One hospital's own rows, as `consilium site` reads them: a CSV (with its held-out rows given or
 * split off), the hospital's FHIR R4 resources mapped onto the consortium's common data model, or
 * one hospital of a shipped dataset. A source that cannot be used is a `SiteDataError` naming
 * which input is wrong and why.
 */
import { join } from "node:path";
import { cdmToFeatureSpec } from "../../core/fhir/cdm.ts";
import { defaultCdm } from "../../core/fhir/default-cdm.ts";
import type { Table } from "../../core/preprocess/table.ts";
import { seededRandom } from "../../core/random.ts";
import { loadHeartDisease, type SiteData } from "./builtin-datasets.ts";
import { fhirSiteData, isFile, mapSiteDirectory, mappingNote, readCdm } from "./fhir-sites.ts";
import { subset, trainTestSplit } from "./partition.ts";
import { duplicateOf, readCsvFile, readingNotes, type CsvFile, type DelimiterName } from "./read-csv.ts";

/** The hospitals of the shipped heart-disease dataset, in `loadHeartDisease` order. */
export const heartDiseaseSites = ["cleveland", "hungarian", "switzerland", "va"] as const;

/** Where a site's rows come from. */
export type SiteSource =
  | {
      readonly kind: "csv";
      readonly data: string;
      readonly test?: string;
      readonly testFraction: number;
      readonly seed: number;
      readonly delimiter?: DelimiterName;
      /** This hospital's column names onto the consortium's: `{ cholesterol: "chol" }`. */
      readonly map?: Readonly<Record<string, string>>;
    }
  | { readonly kind: "fhir"; readonly dir: string; readonly cdm?: string; readonly testFraction: number; readonly seed: number }
  | { readonly kind: "heart-disease"; readonly site: (typeof heartDiseaseSites)[number] };

/** Which input of a `SiteSource` could not be used, and why. */
export class SiteDataError extends Error {
  override readonly name = "SiteDataError";
  constructor(
    readonly input: "data" | "test" | "fhir" | "cdm" | "map",
    message: string,
  ) {
    super(message);
  }
}

/**
 * The site's training and held-out rows. `note` hears what loading found worth saying (for FHIR:
 * the data model used and the resources that could not be used, by reason).
 */
export async function loadSiteData(source: SiteSource, note: (line: string) => void = () => undefined): Promise<SiteData> {
  if (source.kind === "heart-disease") {
    const site = (await loadHeartDisease())[heartDiseaseSites.indexOf(source.site)];
    if (!site) throw new Error(`heart-disease:${source.site}: not in the shipped heart-disease data`);
    return site;
  }
  if (source.kind === "fhir") return loadFhirSite(source, note);
  const data = await readTable("data", source.data, source, note);
  const { table, units } = data;
  if (source.test !== undefined) {
    const test = await readTable("test", source.test, source, note);
    const differ = Object.keys({ ...units, ...test.units }).filter((c) => units[c] !== test.units[c]);
    if (differ.length > 0) throw new SiteDataError("test", `${source.test} writes ${differ.map((c) => `${c} in ${test.units[c] ?? "plain numbers"}`).join(", ")}, ${source.data} in ${differ.map((c) => units[c] ?? "plain numbers").join(", ")}: use one unit per column in both files`);
    const columns = new Set(table.columns);
    if (test.table.columns.length !== columns.size || test.table.columns.some((c) => !columns.has(c))) {
      throw new SiteDataError("test", `${source.test} has the columns ${test.table.columns.join(", ")}; ${source.data} has ${table.columns.join(", ")}: give both files the same columns`);
    }
    return { name: source.data, train: table, test: test.table, units };
  }
  const split = splitRows(table, source.testFraction, source.seed);
  if (split.train.rows.length === 0 || split.test.rows.length === 0) throw new SiteDataError("data", `${source.data} has ${table.rows.length} rows, too few to hold some out`);
  return { name: source.data, ...split, units };
}


/**
 * The table with this hospital's columns renamed to the consortium's. A mapping that names a
 * column the file lacks, maps two columns onto one name, or onto a name the file already uses is
 * refused, listing the file's columns.
 */
export function mapColumns(table: Table, map: Readonly<Record<string, string>>, file: string): Table {
  const have = table.columns;
  const unknown = Object.keys(map).filter((c) => !have.includes(c));
  if (unknown.length > 0) throw new SiteDataError("map", `${file} has no column ${unknown.map((c) => `"${c}"`).join(", ")} (columns: ${have.join(", ")})`);
  const twice = duplicateOf(Object.values(map));
  if (twice !== undefined) throw new SiteDataError("map", `two columns are mapped onto "${twice}"`);
  const columns = have.map((c) => (Object.hasOwn(map, c) ? (map[c] ?? c) : c));
  const clash = duplicateOf(columns);
  if (clash !== undefined) throw new SiteDataError("map", `"${clash}" would name two columns of ${file}: it is already a column there; map that one too, or choose another`);
  return { columns, rows: table.rows };
}

/**
 * The label column is only known once the coordinator sends its feature spec, so a split made
 * before then cannot be stratified: rows are held out uniformly at random, the same ones for the
 * same seed on every restart.
 */
export function splitRows(table: Table, testFraction: number, seed: number): { train: Table; test: Table } {
  const { train, test } = trainTestSplit([...table.rows.keys()], () => "", testFraction, seededRandom(seed));
  return { train: subset(table, train), test: subset(table, test) };
}

/** A CSV of this site, its columns mapped onto the consortium's, what reading it did said through `note`. */
async function readTable(input: "data" | "test", file: string, source: Extract<SiteSource, { kind: "csv" }>, note: (line: string) => void): Promise<{ table: Table; units: Record<string, string> }> {
  let csv: CsvFile;
  try {
    csv = await readCsvFile(file, source.delimiter ? { delimiter: source.delimiter } : {});
  } catch (err) {
    throw new SiteDataError(input, `cannot read ${err instanceof Error ? err.message : String(err)}`);
  }
  const unreadable = Object.entries(csv.unreadable);
  if (unreadable.length > 0) throw new SiteDataError(input, `${file}: ${unreadable.map(([c, why]) => `column ${c}: ${why}`).join("; ")}`);
  for (const line of readingNotes(file, csv)) note(line);
  const map = source.map ?? {};
  const units: Record<string, string> = Object.create(null);
  for (const [c, u] of Object.entries(csv.units)) units[Object.hasOwn(map, c) ? (map[c] ?? c) : c] = u;
  return { table: Object.keys(map).length > 0 ? mapColumns(csv.table, map, file) : csv.table, units };
}

/**
 * This hospital's FHIR resources mapped onto the common data model (`cdm`, else `DIR/cdm.json`,
 * else the built-in one), split stratified by label; what could not be used is said by reason.
 */
async function loadFhirSite(source: Extract<SiteSource, { kind: "fhir" }>, note: (line: string) => void): Promise<SiteData> {
  const { dir } = source;
  const fallback = join(dir, "cdm.json");
  const file = source.cdm ?? ((await isFile(fallback)) ? fallback : undefined);
  const cdm = file === undefined ? defaultCdm : await readCdm(file).catch((err: unknown) => {
    throw new SiteDataError("cdm", (err as Error).message);
  });
  const mapped = await mapSiteDirectory(cdm, dir).catch((err: unknown) => {
    throw new SiteDataError("fhir", (err as Error).message);
  });
  note(`data model ${file ?? "built-in (cardiovascular)"}; ${mappingNote(dir, mapped.report)}`);
  const site = fhirSiteData(dir, mapped, cdmToFeatureSpec(cdm), source.testFraction, seededRandom(source.seed));
  if (site.train.rows.length === 0 || site.test.rows.length === 0) throw new SiteDataError("fhir", `${dir} maps to ${mapped.table.rows.length} patients, too few to hold some out`);
  return site;
}
