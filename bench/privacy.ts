/**
 * @module
 * What sample-level differential privacy costs in clinical terms: heart-disease (4 hospitals)
 * and wdbc (4 sites) with their recipes' model and strategy on a schedule that suits DP-SGD (20
 * rounds of 10 local steps of 64 rows), non-private and with DP-SGD at every site for ε ∈ {1, 3,
 * 8}, δ = 1e-5 (clip 1; each site calibrates its noise to spend exactly its budget over the
 * planned rounds), each with the same configuration and seeds. Pooled AUROC, sensitivity and
 * specificity of the final global model on every site's held-out rows, and the largest ε any site
 * spent.
 *
 *   npx tsx bench/privacy.ts                      # both datasets, BENCH_SEEDS seeds (default 3)
 *   BENCH_ONLY=wdbc BENCH_SEEDS=1 npx tsx bench/privacy.ts
 */
import { mkdir, writeFile } from "node:fs/promises";
import { simulateOnce } from "../cli/simulate.ts";
import { PrivacyPolicy } from "../core/schemas/privacy.ts";
import type { RunReport } from "../core/schemas/report.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { builtinPlan, quietLogger } from "./plan.ts";

const seeds = Number(process.env.BENCH_SEEDS ?? 3);
const EPSILONS = [1, 3, 8];
const ROUNDS = 20;
const LOCAL_STEPS = 10;
const BATCH = 64;
const DATASETS = (["heart-disease", "wdbc"] as const).filter((d) => process.env.BENCH_ONLY === undefined || d === process.env.BENCH_ONLY);
const backend = await selectBackend();

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs: readonly number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

interface Row {
  readonly auroc: number[];
  readonly sensitivity: number[];
  readonly specificity: number[];
  readonly epsilon: number[];
  readonly seconds: number[];
}

async function cell(dataset: (typeof DATASETS)[number], epsilon: number | null): Promise<Row> {
  const row: Row = { auroc: [], sensitivity: [], specificity: [], epsilon: [], seconds: [] };
  for (let seed = 1; seed <= seeds; seed++) {
    const privacy = epsilon === null ? undefined : PrivacyPolicy.parse({ level: "sample", epsilon, delta: 1e-5, clip: 1 });
    const recipe = await builtinPlan(dataset, seed);
    // A schedule that suits DP-SGD (fewer, larger steps: the noise per step is fixed, the signal grows with the batch), for both arms.
    const plan = { ...recipe, rounds: ROUNDS, training: { ...recipe.training, localSteps: LOCAL_STEPS, batchSize: BATCH }, ...(privacy && { privacy }) };
    const r: RunReport = await simulateOnce(plan, seed, { logger: quietLogger });
    const g = r.pooled.global;
    row.auroc.push(g.auroc ?? Number.NaN);
    row.sensitivity.push(g.sensitivity ?? Number.NaN);
    row.specificity.push(g.specificity ?? Number.NaN);
    row.epsilon.push(Math.max(0, ...(r.privacy ?? []).map((p) => p.epsilon)));
    row.seconds.push(r.wallSeconds);
    process.stderr.write(`${dataset} ε ${epsilon ?? "∞"} seed ${seed}: AUROC ${g.auroc?.toFixed(4)} sensitivity ${g.sensitivity?.toFixed(3)} spent ${row.epsilon.at(-1)?.toFixed(3)}\n`);
  }
  return row;
}

const f = (xs: readonly number[], digits = 3) => (seeds > 1 ? `${mean(xs).toFixed(digits)} ± ${sd(xs).toFixed(digits)}` : mean(xs).toFixed(digits));
let out = `backend ${backend}; ${seeds} seed(s) per cell (mean ± sd); ${ROUNDS} rounds × ${LOCAL_STEPS} local steps of ${BATCH} rows, the recipes' model and strategy; sample-level DP-SGD, δ = 1e-5, clip 1, noise calibrated per site for the planned rounds; pooled figures of the final global model\n\n`;
out += "| dataset | privacy | pooled AUROC | AUROC − non-private | sensitivity | specificity | largest ε spent | seconds per run |\n|---|---|---|---|---|---|---|---|\n";
const results: Record<string, Row> = {};
for (const dataset of DATASETS) {
  const base = await cell(dataset, null);
  results[`${dataset}/none`] = base;
  out += `| ${dataset} | none | ${f(base.auroc)} | — | ${f(base.sensitivity)} | ${f(base.specificity)} | — | ${mean(base.seconds).toFixed(1)} |\n`;
  for (const epsilon of EPSILONS) {
    const c = await cell(dataset, epsilon);
    results[`${dataset}/${epsilon}`] = c;
    const drop = mean(c.auroc) - mean(base.auroc);
    out += `| ${dataset} | ε = ${epsilon} | ${f(c.auroc)} | ${(drop >= 0 ? "+" : "") + drop.toFixed(3)} | ${f(c.sensitivity)} | ${f(c.specificity)} | ${Math.max(...c.epsilon).toFixed(3)} | ${mean(c.seconds).toFixed(1)} |\n`;
  }
}
process.stdout.write(out);
await mkdir("bench/results", { recursive: true });
const suffix = process.env.BENCH_ONLY ? `-${process.env.BENCH_ONLY}` : "";
await writeFile(`bench/results/privacy${suffix}.md`, out);
await writeFile(`bench/results/privacy${suffix}.json`, JSON.stringify(results, null, 2));
