/**
 * @module
 * The results table of the README: heart-disease (FLamby split, four real hospitals) and wdbc
 * (8 sites, Dirichlet 0.5 over labels), each figure the mean ± sd over seeds of a full simulated
 * federation through the production code paths.
 */
import { modelName } from "../core/model/model-spec.ts";
import { writeFile, mkdir } from "node:fs/promises";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { simulateOnce, type SimulationPlan } from "../cli/simulate.ts";
import { summariseRuns } from "../core/report/summarise-runs.ts";
import type { Report, Stat } from "../core/schemas/report.ts";
import { builtinPlan, quietLogger } from "./plan.ts";

const seeds = Number(process.env.BENCH_SEEDS ?? 5);
const backend = await selectBackend();
const fmt = (s: Stat) => (s.mean === null ? "—" : `${s.mean.toFixed(3)} ± ${(s.sd ?? 0).toFixed(3)}`);

async function run(name: string, dataset: "heart-disease" | "wdbc", overrides: Partial<SimulationPlan>, n: number, sites?: number, split?: string): Promise<[string, Report]> {
  const runs = [];
  for (let s = 1; s <= n; s++) runs.push(await simulateOnce(await builtinPlan(dataset, s, overrides, sites, split), s, { logger: quietLogger }));
  const plan = await builtinPlan(dataset, 1, overrides, sites, split);
  return [name, summariseRuns({ backend, dataset, model: modelName(plan.model), strategy: plan.strategy, codec: plan.codec, roundsPlanned: plan.rounds }, runs)];
}

const rows: [string, Report][] = [];
rows.push(await run("heart-disease, scaffold (default)", "heart-disease", {}, seeds));
rows.push(await run("heart-disease, fedavg", "heart-disease", { strategy: "fedavg" }, seeds));
rows.push(await run("heart-disease, fedadam", "heart-disease", { strategy: "fedadam:0.05" }, seeds));
rows.push(await run("wdbc 8 sites dirichlet:0.5, scaffold", "wdbc", {}, Math.min(seeds, 3), 8, "dirichlet:0.5"));

let out = `backend ${backend}; seeds ${seeds} (wdbc ${Math.min(seeds, 3)})\n\n`;
out += "| run | mean site acc. global | personalised | local only | centralized | fed/central | pooled AUROC global | pooled sens. | pooled spec. | s/run |\n|---|---|---|---|---|---|---|---|---|---|\n";
for (const [name, r] of rows) {
  const m = r.meanSiteAccuracy;
  out += `| ${name} | ${fmt(m.global)} | ${fmt(m.personalized)} | ${fmt(m.local)} | ${fmt(m.centralized)} | ${fmt(r.federatedToCentralized)} | ${fmt(r.pooled.global.auroc)} | ${fmt(r.pooled.global.sensitivity)} | ${fmt(r.pooled.global.specificity)} | ${fmt(r.wallSeconds)} |\n`;
}
process.stdout.write(out);
await mkdir("bench/results", { recursive: true });
// Each run's score histograms (`curves`, four models × 2,000 bins) are left out: ten times the rest of the file, and the figures above already come from them.
const withoutCurves = rows.map(([name, r]) => [name, { ...r, runs: r.runs.map(({ curves: _curves, ...run }) => run) }] as const);
await writeFile("bench/results/accuracy.json", JSON.stringify(Object.fromEntries(withoutCurves), null, 2));
