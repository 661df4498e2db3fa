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

const RESOURCE_FILES = ["Patient.ndjson", "Observation.ndjson", "Condition.ndjson"];

/** Whether `path` exists as a file. */
async function isFile(path: string): Promise<boolean> {
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
