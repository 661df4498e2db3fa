/**
 * @module
 * Writes a synthetic cohort to a directory, streaming: one patient's resources at a time into
 * buffered file streams, so that memory stays flat whatever the cohort's size.
 *
 *   dir/manifest.json                              config, model coefficients, per-site tallies
 *   dir/cdm.json                                   the common data model the cohort is coded for
 *   dir/<site>/Patient.ndjson, Observation.ndjson, Condition.ndjson     (format "ndjson")
 *   dir/<site>/bundle.json                         one collection Bundle  (format "bundle")
 *
 * The generator itself (`core/fhir/synth.ts`) does no I/O; this is where its cohorts meet files.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import { CARDIO_MODEL } from "../../core/fhir/cardio-model.ts";
import type { Cdm } from "../../core/fhir/cdm.ts";
import { defaultCdm } from "../../core/fhir/default-cdm.ts";
import { SynthConfig, type SynthConfigInput } from "../../core/fhir/synth-config.ts";
import { emptyTally, synthSite, tally, type CohortManifest, type SiteTally } from "../../core/fhir/synth.ts";

export interface WriteCohortOptions {
  readonly format?: "ndjson" | "bundle";
  /** Called after each site is written (progress for a CLI). */
  readonly onSite?: (tally: SiteTally, index: number) => void;
  /** The data model written as `cdm.json` (default: the default CDM at the cohort's index date). */
  readonly cdm?: Cdm;
}

const FLUSH_CHARS = 1 << 20;

/** A write stream that takes strings in batches of about 1 Mi characters and waits on back-pressure. */
class BufferedFile {
  private parts: string[] = [];
  private size = 0;
  private readonly stream: WriteStream;

  constructor(path: string) {
    this.stream = createWriteStream(path);
  }

  async write(text: string): Promise<void> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= FLUSH_CHARS) await this.flush();
  }

  private async flush(): Promise<void> {
    const chunk = this.parts.join("");
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(chunk)) await once(this.stream, "drain");
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await finished(this.stream);
  }
}

/** A fixed urn:uuid for a Bundle entry: the site and the entry's serial, in a version-4 layout. */
const entryUrl = (site: number, serial: number) =>
  `urn:uuid:${site.toString(16).padStart(8, "0")}-0000-4000-8000-${serial.toString(16).padStart(12, "0")}`;

/**
 * Generates the cohort of `input` into `dir` and returns its manifest (also written as
 * `manifest.json`). Sites are written one after the other; the bytes depend only on `input`.
 *
 * @example
 * await writeCohort({ seed: 1, patients: 500_000, sites: defaultSiteProfiles(20) }, "/tmp/cohort");
 */
export async function writeCohort(input: SynthConfigInput, dir: string, options: WriteCohortOptions = {}): Promise<CohortManifest> {
  const config = SynthConfig.parse(input);
  const format = options.format ?? "ndjson";
  const tallies: SiteTally[] = [];
  for (let s = 0; s < config.sites.length; s++) {
    const name = config.sites[s]!.name;
    const siteDir = join(dir, name);
    await mkdir(siteDir, { recursive: true });
    const t = emptyTally(name);
    if (format === "ndjson") {
      const files = { Patient: new BufferedFile(join(siteDir, "Patient.ndjson")), Observation: new BufferedFile(join(siteDir, "Observation.ndjson")), Condition: new BufferedFile(join(siteDir, "Condition.ndjson")) };
      for (const p of synthSite(config, s)) {
        tally(t, p);
        await files.Patient.write(`${JSON.stringify(p.patient)}\n`);
        for (const o of p.observations) await files.Observation.write(`${JSON.stringify(o)}\n`);
        for (const c of p.conditions) await files.Condition.write(`${JSON.stringify(c)}\n`);
      }
      await Promise.all(Object.values(files).map((f) => f.close()));
    } else {
      const file = new BufferedFile(join(siteDir, "bundle.json"));
      await file.write('{"resourceType":"Bundle","type":"collection","entry":[');
      let serial = 0;
      for (const p of synthSite(config, s)) {
        tally(t, p);
        for (const r of [p.patient, ...p.observations, ...p.conditions]) {
          await file.write(`${serial === 0 ? "\n" : ",\n"}{"fullUrl":"${entryUrl(s, serial)}","resource":${JSON.stringify(r)}}`);
          serial++;
        }
      }
      await file.write("\n]}\n");
      await file.close();
    }
    tallies.push(t);
    options.onSite?.(t, s);
  }
  const manifest: CohortManifest = { config, model: CARDIO_MODEL, sites: tallies };
  await writeFile(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(join(dir, "cdm.json"), `${JSON.stringify(options.cdm ?? { ...defaultCdm, indexDate: config.indexDate }, null, 2)}\n`);
  return manifest;
}
