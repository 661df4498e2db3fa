/**
 * @module
 * What the dashboard costs the coordinator for a large consortium: 100 sites after 200 rounds
 * (every site in every round, through the coordinator's own routes on an in-memory store, each
 * manifest with the base model's counts and a training loss, as sites send them), the
 * overview page rendered at the server (its status read included) beside a plain status read
 * (`GET /v1/admin/status`) in the same run, alternately; and what a browser transfers to show it
 * (the page and its assets). Last, the status read without the rounds' summaries, as every
 * manifest was read before them.
 *
 * `BENCH_SITES` (100), `BENCH_ROUNDS` (200), `BENCH_REPEATS` (25).
 */
import { writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { countPredictions } from "../core/metrics/index.ts";
import { keys } from "../functions/keys.ts";
import { startEmbeddedStack } from "../cli/embedded-stack.ts";
import { withWriteOnceCache } from "../functions/adapters/write-once-cache.ts";
import { createApp } from "../functions/app.ts";
import { ADMIN_TOKEN, delta, Harness, siteTables, type TestSite } from "../test/support/coordinator.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SITES = Number(process.env.BENCH_SITES ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 25);
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const built = performance.now();
const h = new Harness();
await h.createFederation({ expectedSites: SITES, rounds: ROUNDS, roundDeadlineSeconds: 3600 });
const sites: TestSite[] = [];
for (let i = 0; i < SITES; i++) sites.push(await h.enrol(`Hospital ${i + 1}`, siteTables[i % siteTables.length]!));
for (const site of sites) await h.postStats(site);
// Every manifest as a site sends it: the base model's counts on its held-out rows (two histograms of DEFAULT_BINS bins) and its training loss.
const baseMetrics = sites.map((_, i) => {
  const labels = Uint8Array.from({ length: 300 }, (_, k) => (k % 4 === 0 ? 1 : 0));
  return countPredictions(Float64Array.from(labels, (y, k) => Math.min(0.999, ((k * 7919 + i * 104729) % 1000) / 1000 * 0.8 + y * 0.2)), labels);
});
for (let r = 1; r <= ROUNDS; r++) {
  for (const [i, site] of sites.entries()) {
    const manifest = await h.upload(site, r, delta((i % 7) + 1), site.table.rows.length);
    const res = await h.postUpdate(site, r, { ...manifest, baseMetrics: baseMetrics[i], trainLoss: 0.7 / r + i / 1000 });
    if (res.status !== 202) throw new Error(`update of ${site.siteId}: ${res.status}`);
  }
  await h.runJobs();
}
const status = await h.status();
if (status.roundLog.length < ROUNDS) throw new Error(`only ${status.roundLog.length} rounds ran`);
const buildSeconds = (performance.now() - built) / 1000;

const signIn = await h.app.request("/dashboard/sign-in", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token: ADMIN_TOKEN }).toString() });
const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0]!;
const page: number[] = [];
const plain: number[] = [];
let pageBytes = 0;
let statusBytes = 0;
for (let i = 0; i < REPEATS; i++) {
  let t = performance.now();
  const res = await h.app.request("/dashboard", { headers: { cookie } });
  pageBytes = (await res.arrayBuffer()).byteLength;
  page.push(performance.now() - t);
  if (res.status !== 200) throw new Error(`overview: ${res.status}`);
  t = performance.now();
  const s = await h.app.request("/v1/admin/status", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  statusBytes = (await s.arrayBuffer()).byteLength;
  plain.push(performance.now() - t);
}
// The sites page reads each round's updates site by site (the per-site learning curves): the heaviest page.
const sitesPage: number[] = [];
let sitesBytes = 0;
for (let i = 0; i < Math.min(REPEATS, 9); i++) {
  const t = performance.now();
  const res = await h.app.request("/dashboard/sites", { headers: { cookie } });
  sitesBytes = (await res.arrayBuffer()).byteLength;
  sitesPage.push(performance.now() - t);
  if (res.status !== 200) throw new Error(`sites: ${res.status}`);
}
const html = await (await h.app.request("/dashboard", { headers: { cookie } })).text();
const assets = [...html.matchAll(/(?:src|href)="(\/dashboard\/assets\/[^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, "&"));
let assetBytes = 0;
for (const a of assets) assetBytes += (await (await h.app.request(a)).arrayBuffer()).byteLength;

// The same consortium in the one-machine coordinator's own store (the embedded S3 server, over HTTP
// on 127.0.0.1), as `consilium coordinator` reads it: every object copied, then the same requests.
const stack = await startEmbeddedStack({});
const objects = [...h.root.store.objects];
for (let i = 0; i < objects.length; i += 64) await Promise.all(objects.slice(i, i + 64).map(([k, v]) => stack.store.put(k, v)));
// As `consilium coordinator` wraps it: write-once objects (summaries among them) read once, then from memory.
const onDisk = createApp({ ...h.root, store: withWriteOnceCache(stack.store) });
const s3Page: number[] = [];
const s3Status: number[] = [];
const s3List: number[] = [];
for (let i = 0; i < Math.min(REPEATS, 9); i++) {
  let t = performance.now();
  const res = await onDisk.request("/dashboard", { headers: { cookie } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`overview on the embedded store: ${res.status}`);
  s3Page.push(performance.now() - t);
  t = performance.now();
  await (await onDisk.request("/v1/admin/status", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).arrayBuffer();
  s3Status.push(performance.now() - t);
  t = performance.now();
  const listed = await stack.store.list("");
  s3List.push(performance.now() - t);
  if (listed.length < objects.length) throw new Error(`the embedded store lists ${listed.length} of ${objects.length} objects`);
}
await stack.stop();
// The status as it was read before round summaries: every manifest of every round parsed.
for (let r = 1; r <= ROUNDS; r++) await h.deps.store.delete(keys.roundSummary(r));
const manifests: number[] = [];
for (let i = 0; i < Math.min(REPEATS, 5); i++) {
  const t = performance.now();
  const res = await h.app.request("/v1/admin/status", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  await res.arrayBuffer();
  manifests.push(performance.now() - t);
}
const [p, s, m] = [median(page), median(plain), median(manifests)];
const [sp, ss, sl] = [median(s3Page), median(s3Status), median(s3List)];
const lines = [
  `${SITES} sites, ${status.roundLog.length} rounds (built through the coordinator's routes in ${buildSeconds.toFixed(0)} s, in-memory store); median of ${REPEATS}, alternately; node ${process.version}`,
  "",
  "| request | ms at the server | ratio | bytes |",
  "|---|---|---|---|",
  `| \`GET /v1/admin/status\` (JSON) | ${s.toFixed(1)} | 1.00× | ${(statusBytes / 1024).toFixed(0)} KiB |`,
  `| \`GET /dashboard\` (the overview, rendered) | ${p.toFixed(1)} | ${(p / s).toFixed(2)}× | ${(pageBytes / 1024).toFixed(0)} KiB |`,
  `| \`GET /dashboard/sites\` (per-site curves, median of ${sitesPage.length}) | ${median(sitesPage).toFixed(1)} | ${(median(sitesPage) / s).toFixed(2)}× | ${(sitesBytes / 1024).toFixed(0)} KiB |`,
  `| \`GET /v1/admin/status\` without round summaries (every manifest read, median of ${manifests.length}) | ${m.toFixed(1)} | ${(m / s).toFixed(2)}× | ${(statusBytes / 1024).toFixed(0)} KiB |`,
  "",
  `The same consortium in the one-machine coordinator's embedded store (S3 over HTTP on 127.0.0.1, ${objects.length} objects), median of ${s3Page.length}:`,
  "",
  "| request | ms at the server | ratio to the in-memory status read |",
  "|---|---|---|",
  `| \`GET /v1/admin/status\` | ${ss.toFixed(1)} | ${(ss / s).toFixed(2)}× |`,
  `| \`GET /dashboard\` (the overview) | ${sp.toFixed(1)} | ${(sp / s).toFixed(2)}× |`,
  `| listing every key of the store (${Math.ceil(objects.length / 1000)} pages of 1,000) | ${sl.toFixed(1)} | ${(sl / s).toFixed(2)}× |`,
  "",
  `A first visit transfers the page and its ${assets.length} assets: ${((pageBytes + assetBytes) / 1024).toFixed(0)} KiB uncompressed (the assets, ${(assetBytes / 1024).toFixed(0)} KiB, are cached for good after it: addressed by content).`,
  "",
];
process.stdout.write(lines.join("\n"));
await writeFile(join(ROOT, "bench", "results", "dashboard.md"), lines.join("\n"));
