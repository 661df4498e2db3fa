/**
 * @module
 * The compression table of the README: every codec spec against float32 on the same federation —
 * bytes each site sent per update (what crossed the wire: container header, payload and checksum)
 * and what each site downloaded per round after the first (the model as a down-link delta from
 * the one it holds, in the same codec, plus SCAFFOLD's float32 control where there is one),
 * and the pooled AUROC and accuracy of the final global model — on heart-disease (15 parameters,
 * where the 48 bytes of header and checksum dominate), wdbc (31) and wdbc with a 130k-parameter MLP.
 *
 * BENCH_SEEDS (default 1) seeds per cell; BENCH_ONLY=heart-disease|wdbc|wdbc-mlp runs one workload;
 * BENCH_CODECS=a,b restricts the codecs (float32 always runs: it is the baseline).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { simulateOnce, type SimulationPlan } from "../cli/simulate.ts";
import type { RunReport } from "../core/schemas/report.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { builtinPlan, quietLogger } from "./plan.ts";

const seeds = Number(process.env.BENCH_SEEDS ?? 1);
const codecs = ["float32", ...(process.env.BENCH_CODECS ?? "float16,int8,int4,topk:0.1+int8,randk:0.1+int8").split(",").filter((c) => c !== "float32")];
const WORKLOADS = [
  { name: "heart-disease", dataset: "heart-disease", sites: 4, split: "iid", overrides: {} },
  { name: "wdbc", dataset: "wdbc", sites: 8, split: "dirichlet:0.5", overrides: {} },
  // 30 inputs → 1024 → 96 → 1: 130,241 body parameters.
  { name: "wdbc-mlp", dataset: "wdbc", sites: 8, split: "dirichlet:0.5", overrides: { model: "mlp:1024,96", strategy: "fedavg", rounds: 10 } },
] as const;
const workloads = WORKLOADS.filter((w) => process.env.BENCH_ONLY === undefined || w.name === process.env.BENCH_ONLY);

const backend = await selectBackend();

interface Cell {
  readonly runs: RunReport[];
  readonly bytesPerUpdate: number;
  /** Bytes a site downloaded per round, rounds 2 onwards (round 1 downloads the initial model whole). */
  readonly bytesDown: number;
  readonly auroc: number;
  readonly accuracy: number;
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

async function cell(w: (typeof WORKLOADS)[number], codec: string): Promise<Cell> {
  const runs: RunReport[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const plan: SimulationPlan = await builtinPlan(w.dataset, seed, { ...w.overrides, codec }, w.sites, w.split);
    runs.push(await simulateOnce(plan, seed, { logger: quietLogger }));
    const r = runs.at(-1)!;
    process.stderr.write(`${w.name} ${codec} seed ${seed}: AUROC ${r.pooled.global.auroc?.toFixed(4)} bytes up ${r.bytes.up}\n`);
  }
  const updates = runs.map((r) => r.rounds.reduce((n, x) => n + x.sites, 0));
  return {
    runs,
    bytesPerUpdate: mean(runs.map((r, i) => r.bytes.up / Math.max(1, updates[i]!))),
    bytesDown: mean(runs.map((r) => {
      const later = r.rounds.slice(1);
      return later.reduce((n, x) => n + x.bytesDown, 0) / Math.max(1, later.reduce((n, x) => n + x.sites, 0));
    })),
    auroc: mean(runs.map((r) => r.pooled.global.auroc ?? Number.NaN)),
    accuracy: mean(runs.map((r) => r.pooled.global.accuracy ?? Number.NaN)),
  };
}

const results: Record<string, unknown> = {};
let out = `backend ${backend}; ${seeds} seed(s) per cell; pooled figures of the final global model; bytes per update as sent (header and checksum included); bytes down per site and round from round 2 on\n\n`;
out += "| workload | codec | bytes per update | × smaller than float32 | bytes down per site and round | × smaller | pooled AUROC | AUROC − float32 | pooled accuracy | accuracy / float32 |\n|---|---|---|---|---|---|---|---|---|---|\n";
for (const w of workloads) {
  const base = await cell(w, "float32");
  for (const codec of codecs) {
    const c = codec === "float32" ? base : await cell(w, codec);
    const drop = c.auroc - base.auroc;
    out += `| ${w.name} | ${codec} | ${Math.round(c.bytesPerUpdate)} | ${(base.bytesPerUpdate / c.bytesPerUpdate).toFixed(2)} | ${Math.round(c.bytesDown)} | ${(base.bytesDown / c.bytesDown).toFixed(2)} | ${c.auroc.toFixed(4)} | ${(drop >= 0 ? "+" : "") + drop.toFixed(4)} | ${c.accuracy.toFixed(4)} | ${(c.accuracy / base.accuracy).toFixed(3)} |\n`;
    results[`${w.name}/${codec}`] = { bytesPerUpdate: c.bytesPerUpdate, bytesDown: c.bytesDown, auroc: c.runs.map((r) => r.pooled.global.auroc), accuracy: c.runs.map((r) => r.pooled.global.accuracy) };
  }
}
process.stdout.write(out);
await mkdir("bench/results", { recursive: true });
const suffix = process.env.BENCH_ONLY ? `-${process.env.BENCH_ONLY}` : "";
await writeFile(`bench/results/compression${suffix}.json`, JSON.stringify(results, null, 2));
await writeFile(`bench/results/compression${suffix}.md`, out);
