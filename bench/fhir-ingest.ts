/**
 * @module
 * FHIR R4 ingestion throughput against plain `JSON.parse` over the same bytes, and the time to
 * write a synthetic cohort:
 *
 * 1. `writeCohort` streams a cohort (default 500,000 patients over 20 sites, NDJSON) to a
 *    temporary directory: seconds, bytes, resources, peak resident memory.
 * 2. Per site, in memory: the site's three NDJSON files as strings, cut into lines and
 *    `JSON.parse`d (the reference), against `mapNdjson` over the same strings (parse, validate
 *    with zod, map, aggregate, build the table and report). Median of the repeats.
 * 3. Every site streamed from its files (64 KiB chunks): the same two, once per site, alternating.
 * 4. Bundles: `JSON.parse` of a site's bundle.json text against `mapBundle` of the same text.
 *
 * The goal is ingestion ≥ 0.3× the reference's throughput. The mapped counts are checked against
 * the generator's tallies (unknown codes, readings outside the window, unit errors).
 *
 *   npx tsx bench/fhir-ingest.ts
 *   BENCH_PATIENTS=20000 BENCH_SITES=4 npx tsx bench/fhir-ingest.ts   # a quick run
 */
import { createReadStream, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultCdm } from "../core/fhir/default-cdm.ts";
import { mapBundle, mapNdjson } from "../core/fhir/map-bundle.ts";
import type { MappingReport } from "../core/fhir/mapping-report.ts";
import { forEachLine } from "../core/fhir/ndjson-lines.ts";
import { defaultSiteProfiles } from "../core/fhir/synth-config.ts";
import { writeCohort } from "../gpu-runner/data/write-cohort.ts";

const patients = Number(process.env.BENCH_PATIENTS ?? 500_000);
const siteCount = Number(process.env.BENCH_SITES ?? 20);
const memorySites = Math.min(siteCount, Number(process.env.BENCH_MEMORY_SITES ?? 4));
const repeats = Math.max(1, Number(process.env.BENCH_REPEATS ?? 5));
const bundlePatients = Number(process.env.BENCH_BUNDLE_PATIENTS ?? 40_000);
const TYPES = ["Patient", "Observation", "Condition"] as const;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const fmt = (n: number) => n.toLocaleString("en-US");
const rate = (bytes: number, s: number) => `${((bytes / s) / 2 ** 20).toFixed(0)} MiB/s`;

async function time<T>(run: () => Promise<T> | T): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await run();
  return [(performance.now() - t0) / 1000, out];
}

/** The reference: every line of `text` through `JSON.parse`, nothing else. */
function parseLines(text: string): number {
  let n = 0;
  let start = 0;
  for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
    if (nl > start) {
      JSON.parse(text.slice(start, nl));
      n++;
    }
    start = nl + 1;
  }
  return n;
}

const dir = await mkdtemp(join(tmpdir(), "fhir-ingest-"));
const out: string[] = [];
const say = (line = "") => {
  process.stdout.write(`${line}\n`);
  out.push(line);
};

try {
  // 1. Synthesis, streamed to files.
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const [synthSeconds, manifest] = await time(() =>
    writeCohort({ seed: 1, patients, sites: defaultSiteProfiles(siteCount) }, join(dir, "ndjson"), {
      onSite: (t, s) => process.stderr.write(`  wrote ${t.name} (${s + 1}/${siteCount})\n`),
    }),
  );
  clearInterval(sampler);
  let bytes = 0;
  for (const site of manifest.sites) for (const t of TYPES) bytes += (await stat(join(dir, "ndjson", site.name, `${t}.ndjson`))).size;
  const resources = manifest.sites.reduce((a, s) => a + s.resources.Patient + s.resources.Observation + s.resources.Condition, 0);
  say(`# FHIR R4 ingestion and synthesis`);
  say();
  say(`node ${process.version}, ${process.platform}/${process.arch}, default CDM (${defaultCdm.features.length} features + label), seed 1`);
  say();
  say(`## Synthesis (writeCohort, NDJSON, streamed)`);
  say();
  say(`| patients | sites | resources | bytes written | seconds | patients/s | resident memory growth (peak) |`);
  say(`|---|---|---|---|---|---|---|`);
  say(`| ${fmt(patients)} | ${siteCount} | ${fmt(resources)} | ${mib(bytes)} | ${synthSeconds.toFixed(1)} | ${fmt(Math.round(patients / synthSeconds))} | ${mib(peak - rssBefore)} |`);
  say();

  // 2. In memory: the same strings through JSON.parse and through mapNdjson.
  say(`## Ingestion in memory (median of ${repeats} after a warm-up, ${memorySites} sites)`);
  say();
  say(`| site | MiB | lines | JSON.parse s | mapNdjson s | mapNdjson MiB/s | throughput ratio (map / JSON.parse) |`);
  say(`|---|---|---|---|---|---|---|`);
  let memParse = 0;
  let memMap = 0;
  for (const site of manifest.sites.slice(0, memorySites)) {
    const texts = TYPES.map((t) => readFileSync(join(dir, "ndjson", site.name, `${t}.ndjson`), "utf8"));
    const size = texts.reduce((a, t) => a + Buffer.byteLength(t), 0);
    const lines = texts.reduce((a, t) => a + parseLines(t), 0);
    await mapNdjson(defaultCdm, ...texts);
    const parse: number[] = [];
    const map: number[] = [];
    for (let r = 0; r < repeats; r++) {
      parse.push((await time(() => texts.forEach(parseLines)))[0]);
      map.push((await time(() => mapNdjson(defaultCdm, ...texts)))[0]);
    }
    memParse += median(parse);
    memMap += median(map);
    say(`| ${site.name} | ${(size / 2 ** 20).toFixed(1)} | ${fmt(lines)} | ${median(parse).toFixed(3)} | ${median(map).toFixed(3)} | ${rate(size, median(map))} | ${(median(parse) / median(map)).toFixed(2)}× |`);
  }
  say(`| all | | | ${memParse.toFixed(3)} | ${memMap.toFixed(3)} | | **${(memParse / memMap).toFixed(2)}×** |`);
  say();

  // 3. Streamed from the files, every site once, alternating.
  let fileParse = 0;
  let fileMap = 0;
  const reports: MappingReport[] = [];
  for (const site of manifest.sites) {
    const paths = TYPES.map((t) => join(dir, "ndjson", site.name, `${t}.ndjson`));
    fileParse += (
      await time(async () => {
        for (const p of paths) await forEachLine(createReadStream(p), (line) => line !== "" && JSON.parse(line));
      })
    )[0];
    const [s, mapped] = await time(() => mapNdjson(defaultCdm, ...paths.map((p) => createReadStream(p))));
    fileMap += s;
    reports.push(mapped.report);
  }
  say(`## Ingestion streamed from files (every site once, 64 KiB chunks)`);
  say();
  say(`| bytes | JSON.parse s | mapNdjson s | mapNdjson throughput | throughput ratio |`);
  say(`|---|---|---|---|---|`);
  say(`| ${mib(bytes)} | ${fileParse.toFixed(2)} | ${fileMap.toFixed(2)} | ${rate(bytes, fileMap)} | **${(fileParse / fileMap).toFixed(2)}×** |`);
  say();

  // The report against the generator's tallies.
  const sum = (f: (r: MappingReport) => number) => reports.reduce((a, r) => a + f(r), 0);
  const planted = (k: "otherObservations" | "oldReadings" | "priorEvents") => manifest.sites.reduce((a, s) => a + s.planted[k], 0);
  const checks = [
    ["patients (rows)", sum((r) => r.patients), manifest.sites.reduce((a, s) => a + s.patients, 0)],
    ["label positives", sum((r) => r.label.positive), manifest.sites.reduce((a, s) => a + s.positives, 0)],
    ["Observations dropped: unknown code (heart rate)", sum((r) => r.resources.Observation?.dropped["unknown-code"] ?? 0), planted("otherObservations")],
    ["Observations dropped: outside window (old SBP)", sum((r) => r.resources.Observation?.dropped["outside-window"] ?? 0), planted("oldReadings")],
    ["Conditions dropped: outside window (prior events)", sum((r) => r.resources.Condition?.dropped["outside-window"] ?? 0), planted("priorEvents")],
    ["Observations dropped: out of range (unit error)", sum((r) => r.resources.Observation?.dropped["out-of-range"] ?? 0), "—"],
  ] as const;
  say(`## Mapped counts against the generator's tallies (all sites)`);
  say();
  say(`| count | mapped | generated |`);
  say(`|---|---|---|`);
  for (const [name, got, want] of checks) say(`| ${name} | ${fmt(got)} | ${typeof want === "number" ? fmt(want) : want} |`);
  say();

  // 4. Bundles.
  const bundleDir = join(dir, "bundle");
  await writeCohort({ seed: 2, patients: bundlePatients, sites: defaultSiteProfiles(4) }, bundleDir, { format: "bundle" });
  let bParse = 0;
  let bMap = 0;
  let bBytes = 0;
  for (const name of (await readdir(bundleDir)).filter((n) => n.startsWith("site-")).sort()) {
    const text = readFileSync(join(bundleDir, name, "bundle.json"), "utf8");
    bBytes += Buffer.byteLength(text);
    JSON.parse(text);
    mapBundle(defaultCdm, text);
    const parse: number[] = [];
    const map: number[] = [];
    for (let r = 0; r < repeats; r++) {
      parse.push((await time(() => JSON.parse(text)))[0]);
      map.push((await time(() => mapBundle(defaultCdm, text)))[0]);
    }
    bParse += median(parse);
    bMap += median(map);
  }
  say(`## Bundles (one collection Bundle per site, ${fmt(bundlePatients)} patients over 4 sites, median of ${repeats})`);
  say();
  say(`| bytes | JSON.parse s | mapBundle s | throughput ratio |`);
  say(`|---|---|---|---|`);
  say(`| ${mib(bBytes)} | ${bParse.toFixed(3)} | ${bMap.toFixed(3)} | **${(bParse / bMap).toFixed(2)}×** |`);
  say();
  say(`Goal: ingestion throughput ≥ 0.3× that of plain JSON.parse over the same bytes.`);
} finally {
  await rm(dir, { recursive: true, force: true });
}

await mkdir("bench/results", { recursive: true });
await writeFile("bench/results/fhir-ingest.md", `${out.join("\n")}\n`);
