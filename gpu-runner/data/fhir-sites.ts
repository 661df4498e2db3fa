/**
 * @module
 * Hospitals' FHIR data from a directory, one subdirectory per site (as `consilium synth` writes
 * it): `Patient.ndjson`, `Observation.ndjson`, `Condition.ndjson` (any of them may be absent), or
 * one `bundle.json`. Each site's resources are mapped onto the consortium's common data model
 * (`core/fhir`), with every resource it could not use counted by reason.
 */
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { Cdm } from "../../core/fhir/cdm.ts";
import { mapBundle, mapNdjson } from "../../core/fhir/map-bundle.ts";
import type { FhirTable } from "../../core/fhir/map-bundle.ts";
import type { MappingReport } from "../../core/fhir/mapping-report.ts";
import { labelOf } from "../../core/preprocess/label.ts";
import { columnIndex } from "../../core/preprocess/table.ts";
import type { FeatureSpec } from "../../core/schemas/feature-spec.ts";
import type { SiteData } from "./builtin-datasets.ts";
import { subset, trainTestSplit } from "./partition.ts";

const RESOURCE_FILES = ["Patient.ndjson", "Observation.ndjson", "Condition.ndjson"];

/** Whether `path` exists as a file. */
export async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

/** One site's FHIR resources mapped onto the model: its table and its mapping report. */
export async function mapSiteDirectory(cdm: Cdm, dir: string): Promise<FhirTable> {
  if (await isFile(join(dir, "bundle.json"))) return mapBundle(cdm, await readFile(join(dir, "bundle.json"), "utf8"));
  const files = [];
  for (const f of RESOURCE_FILES) if (await isFile(join(dir, f))) files.push(join(dir, f));
  if (files.length === 0) throw new Error(`${dir} holds neither bundle.json nor any of ${RESOURCE_FILES.join(", ")}`);
  // Patients first: observations and conditions refer to them.
  return mapNdjson(cdm, ...files.map((f) => createReadStream(f)));
}

/**
 * Every site of a FHIR directory, in name order, with the common data model in `cdm.json` at the
 * top when there is one (parsed and checked), else `fallback`.
 */
export async function loadFhirSites(dir: string, fallback: Cdm): Promise<{ cdm: Cdm; sites: { name: string; mapped: FhirTable }[] }> {
  const cdmFile = join(dir, "cdm.json");
  const cdm = (await isFile(cdmFile)) ? parseCdm(cdmFile, await readFile(cdmFile, "utf8")) : fallback;
  const listed = await readdir(dir, { withFileTypes: true }).catch((err: unknown) => {
    throw new Error(`cannot read the FHIR directory ${dir}: ${(err as Error).message}`);
  });
  const entries = listed.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  if (entries.length === 0) throw new Error(`${dir} has no site directories`);
  const sites = [];
  for (const name of entries) sites.push({ name, mapped: await mapSiteDirectory(cdm, join(dir, name)) });
  return { cdm, sites };
}

/** The common data model in `file`, read and checked; the error names the file and what is wrong. */
export async function readCdm(file: string): Promise<Cdm> {
  const text = await readFile(file, "utf8").catch((err: unknown) => {
    throw new Error(`cannot read the data model ${file}: ${(err as Error).message}`);
  });
  return parseCdm(file, text);
}

/**
 * One mapped site as training and test rows, split stratified by label, with what its data model
 * refused as out of range (count and mean per feature) for the data-quality checks.
 */
export function fhirSiteData(name: string, mapped: FhirTable, features: FeatureSpec, testFraction: number, rng: () => number): SiteData {
  const { table, report } = mapped;
  const col = columnIndex(table, features.label.column);
  const label = (i: number) => String(labelOf(table.rows[i]?.[col] ?? "", features.label, features.missingTokens));
  const { train, test } = trainTestSplit(Array.from(table.rows.keys()), label, testFraction, rng);
  const outOfRange = outOfRangeOf(report);
  return { name, train: subset(table, train), test: subset(table, test), ...(outOfRange && { outOfRange }) };
}

/** The readings a site's data model refused as out of range, per feature (count and mean), for the data-quality and drift checks; undefined when none were. */
export function outOfRangeOf(report: MappingReport): Record<string, { count: number; mean: number }> | undefined {
  const refused = Object.fromEntries(
    Object.entries(report.features).flatMap(([feature, f]) => {
      const count = f.dropped["out-of-range"] ?? 0;
      return count > 0 && f.outOfRangeMean !== undefined ? [[feature, { count, mean: f.outOfRangeMean }]] : [];
    }),
  );
  return Object.keys(refused).length > 0 ? refused : undefined;
}

/** One line on what mapping a site's resources found: patients, resources read, and what went unused, by reason. */
export function mappingNote(site: string, report: MappingReport): string {
  const read = Object.values(report.resources).reduce((n, r) => n + r.read, 0);
  const dropped = new Map<string, number>();
  for (const r of Object.values(report.resources)) for (const [reason, n] of Object.entries(r.dropped)) dropped.set(reason, (dropped.get(reason) ?? 0) + (n ?? 0));
  const unused = [...dropped.values()].reduce((a, b) => a + b, 0);
  const reasons = [...dropped].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${reason} ${n.toLocaleString("en-US")}`);
  return `${site}: ${report.patients.toLocaleString("en-US")} patients, ${read.toLocaleString("en-US")} resources read, ${unused.toLocaleString("en-US")} not used${reasons.length > 0 ? ` (${reasons.join(", ")})` : ""}`;
}

/** The data model in `file`, or an error that names the file and what is wrong in it. */
function parseCdm(file: string, text: string): Cdm {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not JSON: ${(err as Error).message}`);
  }
  const parsed = Cdm.safeParse(json);
  if (!parsed.success) throw new Error(`${file} is not a common data model:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
