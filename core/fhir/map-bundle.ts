/**
 * @module
 * FHIR R4 in, the project's Table out: Bundles (parsed or JSON text), NDJSON of resources (as
 * text or as a stream of chunks, processed line by line), or resources already in memory. Each
 * call maps one site; the report counts every resource that could not be mapped, by reason.
 *
 * @example
 * import { createReadStream } from "node:fs";
 * const { table, report } = await mapNdjson(defaultCdm, createReadStream("site-01/Patient.ndjson"),
 *   createReadStream("site-01/Observation.ndjson"), createReadStream("site-01/Condition.ndjson"));
 */
import type { Cdm } from "./cdm.ts";
import { createFhirMapper, type FhirTable } from "./fhir-mapper.ts";
import { forEachLine, type NdjsonChunks } from "./ndjson-lines.ts";

export { createFhirMapper, type FhirMapper, type FhirTable } from "./fhir-mapper.ts";

/** Maps resources already parsed (a Bundle among them is read entry by entry). */
export function mapResources(cdm: Cdm, resources: Iterable<unknown>): FhirTable {
  const mapper = createFhirMapper(cdm);
  for (const r of resources) mapper.add(r);
  return mapper.finish();
}

/** Maps one or more Bundles of one site, each parsed or as JSON text. */
export function mapBundle(cdm: Cdm, ...bundles: readonly unknown[]): FhirTable {
  const mapper = createFhirMapper(cdm);
  for (const b of bundles) {
    if (typeof b === "string") mapper.addLine(b);
    else mapper.add(b);
  }
  return mapper.finish();
}

/** Maps NDJSON sources of one site (e.g. its Patient, Observation and Condition files), in order. */
export async function mapNdjson(cdm: Cdm, ...sources: readonly NdjsonChunks[]): Promise<FhirTable> {
  const mapper = createFhirMapper(cdm);
  for (const source of sources) await forEachLine(source, mapper.addLine);
  return mapper.finish();
}
