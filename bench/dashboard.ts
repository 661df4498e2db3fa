/**
 * @module
 * What the dashboard costs the coordinator for a large consortium: 100 sites after 200 rounds
 * (every site in every round, through the coordinator's own routes on an in-memory store), the
 * overview page rendered at the server (its status read included) beside a plain status read
 * (`GET /v1/admin/status`) in the same run, alternately; and what a browser transfers to show it
 * (the page and its assets).
 *
 * `BENCH_SITES` (100), `BENCH_ROUNDS` (200), `BENCH_REPEATS` (25).
 */
import { writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
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
for (let r = 1; r <= ROUNDS; r++) {
  for (const [i, site] of sites.entries()) await h.submit(site, r, delta((i % 7) + 1), site.table.rows.length);
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
const html = await (await h.app.request("/dashboard", { headers: { cookie } })).text();
const assets = [...html.matchAll(/(?:src|href)="(\/dashboard\/assets\/[^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, "&"));
let assetBytes = 0;
for (const a of assets) assetBytes += (await (await h.app.request(a)).arrayBuffer()).byteLength;
const [p, s] = [median(page), median(plain)];
const lines = [
  `${SITES} sites, ${status.roundLog.length} rounds (built through the coordinator's routes in ${buildSeconds.toFixed(0)} s, in-memory store); median of ${REPEATS}, alternately; node ${process.version}`,
  "",
  "| request | ms at the server | ratio | bytes |",
  "|---|---|---|---|",
  `| \`GET /v1/admin/status\` (JSON) | ${s.toFixed(1)} | 1.00× | ${(statusBytes / 1024).toFixed(0)} KiB |`,
  `| \`GET /dashboard\` (the overview, rendered) | ${p.toFixed(1)} | ${(p / s).toFixed(2)}× | ${(pageBytes / 1024).toFixed(0)} KiB |`,
  "",
  `A first visit transfers the page and its ${assets.length} assets: ${((pageBytes + assetBytes) / 1024).toFixed(0)} KiB uncompressed (the assets, ${(assetBytes / 1024).toFixed(0)} KiB, are cached for good after it: addressed by content).`,
  "",
];
process.stdout.write(lines.join("\n"));
await writeFile(join(ROOT, "bench", "results", "dashboard.md"), lines.join("\n"));
