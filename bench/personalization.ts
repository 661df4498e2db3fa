/**
 * @module
 * Personalisation methods side by side (`TrainingConfig.personalization`): the residual head, a
 * fine-tune of the output layer, Ditto and fedrep, each against the global model and local-only training
 * of the same run, on heart-disease (four real hospitals), wdbc over 10 sites Dirichlet(0.3) and
 * the digits over 10 sites Dirichlet(0.3). Per dataset and method, over the seeds: mean site
 * accuracy of the global, the chosen (personal or global) and the local-only model, how often a
 * site kept its personal model, and the site-runs where the chosen model did worse than the
 * global one on the site's held-out rows (a choice made on a validation share of the training
 * rows can still lose on the test rows: they are counted, with the patients it cost).
 *
 *   npm run bench:personalization
 *   BENCH_SEEDS=5 BENCH_ONLY=heart-disease npm run bench:personalization
 */
import { mkdir, writeFile } from "node:fs/promises";
import { simulateOnce, type SimulationPlan } from "../cli/simulate.ts";
import type { RunReport } from "../core/schemas/report.ts";
import type { TrainingConfig } from "../core/schemas/federation.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { builtinPlan, quietLogger } from "./plan.ts";

const seeds = Number(process.env.BENCH_SEEDS ?? 3);
const backend = await selectBackend();
type Dataset = "heart-disease" | "wdbc" | "digits";
const DATASETS: [Dataset, number, string][] = ([
  ["heart-disease", 4, "iid"],
  ["wdbc", 10, "dirichlet:0.3"],
  ["digits", 10, "dirichlet:0.3"],
] as [Dataset, number, string][]).filter(([d]) => process.env.BENCH_ONLY === undefined || process.env.BENCH_ONLY === d);
const METHODS: [string, NonNullable<TrainingConfig["personalization"]>][] = [
  ["residual", { method: "residual" }],
  ["finetune", { method: "finetune", layers: 1 }],
  ["ditto λ 0.5", { method: "ditto", lambda: 0.5 }],
  ["fedrep", { method: "fedrep" }],
];

const mean = (xs: readonly number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const sd = (xs: readonly number[]) => {
  const m = mean(xs);
  return xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};
const fmt = (xs: readonly number[]) => `${mean(xs).toFixed(3)} ± ${sd(xs).toFixed(3)}`;

await mkdir("bench/results", { recursive: true });
const detail: unknown[] = [];
let out = `backend ${backend}; ${seeds} seeds; the default recipe (SCAFFOLD, 60 rounds, logistic regression; softmax for the digits); each site's chosen model is its personal one only where, on 20 % of its training rows, its cross-entropy was lower than the global model's by more than 2 standard errors and it got as many rows right\n\n`;
out += "| dataset | method | mean site acc. global | chosen | local only | chosen − global | personal kept | site-runs chosen < global on test rows (patients) | s/run |\n|---|---|---|---|---|---|---|---|---|\n";
for (const [dataset, sites, split] of DATASETS) {
  for (const [name, personalization] of METHODS) {
    const runs: RunReport[] = [];
    for (let s = 1; s <= seeds; s++) {
      const base = await builtinPlan(dataset, s, {}, sites, split);
      const plan: SimulationPlan = { ...base, training: { ...base.training, personalization } };
      runs.push(await simulateOnce(plan, s, { logger: quietLogger }));
    }
    const per = (pick: (x: RunReport["sites"][number]) => number | null) => runs.map((r) => mean(r.sites.map(pick).filter((v): v is number => v !== null)));
    const global = per((x) => x.accuracy.global);
    const chosen = per((x) => x.accuracy.personalized);
    const local = per((x) => x.accuracy.local);
    const siteRuns = runs.flatMap((r) => r.sites);
    const kept = siteRuns.filter((x) => x.personalChoice?.kind === "personal").length;
    const worse = siteRuns.filter((x) => x.accuracy.personalized !== null && x.accuracy.global !== null && x.accuracy.personalized < x.accuracy.global - 1e-12);
    const patients = worse.reduce((n, x) => n + Math.round(((x.accuracy.global ?? 0) - (x.accuracy.personalized ?? 0)) * x.testRows), 0);
    const line = `| ${dataset}${split === "iid" ? "" : ` ${sites} sites ${split}`} | ${name} | ${fmt(global)} | ${fmt(chosen)} | ${fmt(local)} | ${(mean(chosen) - mean(global)).toFixed(3)} | ${kept} of ${siteRuns.length} | ${worse.length} (${patients}) | ${mean(runs.map((r) => r.wallSeconds)).toFixed(1)} |\n`;
    process.stderr.write(line);
    out += line;
    detail.push({
      dataset, sites, split, method: name,
      runs: runs.map((r, i) => ({
        seed: i + 1,
        sites: r.sites.map((x) => ({ id: x.id, testRows: x.testRows, global: x.accuracy.global, chosen: x.accuracy.personalized, local: x.accuracy.local, choice: x.personalChoice ?? null })),
      })),
    });
    // Written as each row is done: a long run that stops early keeps what it measured.
    await writeFile("bench/results/personalization.md", out);
    await writeFile("bench/results/personalization.json", `${JSON.stringify(detail, null, 1)}\n`);
  }
}
process.stdout.write(out);
