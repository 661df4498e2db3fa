/**
 * @module
 * The attack table of the README: every attack of the attack lab against FedAvg and against the
 * recommended robust configuration (`--strategy robust --scoring`), next to the clean runs, on
 * heart-disease (one of the four hospitals malicious) and wdbc (10 Dirichlet-0.5 sites, 20 %
 * malicious). Pooled AUROC of the final global model on every site's held-out rows (the malicious
 * sites' rows included: their patients are real), and how well scoring found the attackers:
 * precision and recall of the sites quarantined by round 5, and every site quarantined in a clean run.
 *
 * Seeds: heart-disease 1, 2, 5, 6 — each makes a different hospital the attacker (VA, Switzerland,
 * Cleveland, Hungary); wdbc 1, 2. BENCH_SEEDS=N takes the first N of each list instead;
 * BENCH_ONLY=heart-disease|wdbc runs one dataset; BENCH_ATTACKS=a,b restricts the attacks.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { simulateOnce, type SimulationPlan } from "../cli/simulate.ts";
import type { RunReport } from "../core/schemas/report.ts";
import { maliciousSites } from "../gpu-runner/simulation/attack.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { builtinPlan, quietLogger } from "./plan.ts";

const take = process.env.BENCH_SEEDS === undefined ? Number.POSITIVE_INFINITY : Number(process.env.BENCH_SEEDS);
const attacks = (process.env.BENCH_ATTACKS ?? "sign-flip,scale:-10,gaussian:5,label-flip,alie,ipm").split(",");
const DATASETS = [
  { dataset: "heart-disease", label: "heart-disease, 1 of 4 hospitals", sites: 4, split: "iid", fraction: 0.25, seeds: [1, 2, 5, 6] },
  { dataset: "wdbc", label: "wdbc, 2 of 10 sites (dirichlet:0.5)", sites: 10, split: "dirichlet:0.5", fraction: 0.2, seeds: [1, 2] },
] as const;
const datasets = DATASETS.filter((d) => process.env.BENCH_ONLY === undefined || d.dataset === process.env.BENCH_ONLY);
const ROBUST: Partial<SimulationPlan> = { strategy: "robust", scoring: { enabled: true } };
const FEDAVG: Partial<SimulationPlan> = { strategy: "fedavg" };
/** The round by which scoring must have quarantined the attackers. */
const BY_ROUND = 5;

const backend = await selectBackend();
const failures: string[] = [];

interface Cell {
  readonly auroc: number[];
  readonly runs: RunReport[];
}

async function cell(d: (typeof DATASETS)[number], overrides: Partial<SimulationPlan>, attack?: string): Promise<Cell> {
  const runs: RunReport[] = [];
  for (const seed of d.seeds.slice(0, take)) {
    const plan = await builtinPlan(d.dataset, seed, { ...overrides, ...(attack && { attack: { spec: attack, fraction: d.fraction } }) }, d.sites, d.split);
    try {
      runs.push(await simulateOnce(plan, seed, { logger: quietLogger }));
    } catch (err) {
      // One failed run must not lose the rest of the table: it is reported and counts as no value.
      process.stderr.write(`${d.dataset} ${overrides.strategy} ${attack ?? "clean"} seed ${seed}: FAILED ${err instanceof Error ? err.message : String(err)}\n`);
      failures.push(`${d.dataset} ${overrides.strategy} ${attack ?? "clean"} seed ${seed}`);
      continue;
    }
    const r = runs.at(-1)!;
    process.stderr.write(`${d.dataset} ${overrides.strategy} ${attack ?? "clean"} seed ${seed}: AUROC ${r.pooled.global.auroc?.toFixed(4)} malicious [${r.malicious}] quarantined [${r.quarantined ?? "-"}] ${JSON.stringify(r.firstQuarantined ?? {})}\n`);
  }
  return { auroc: runs.map((r) => r.pooled.global.auroc ?? Number.NaN), runs };
}

/**
 * The best any defence can do: the attackers' training rows withheld (each keeps one row, so its
 * sample weight is negligible), every site's test rows still evaluated. Attackers are drawn by
 * seed alone, whatever the attack.
 */
async function withheld(d: (typeof DATASETS)[number]): Promise<Cell> {
  const runs: RunReport[] = [];
  for (const seed of d.seeds.slice(0, take)) {
    const plan = await builtinPlan(d.dataset, seed, { strategy: "robust" }, d.sites, d.split);
    const attackers = maliciousSites(d.sites, { spec: "sign-flip", fraction: d.fraction }, seed);
    const sites = plan.sites.map((s, i) => (attackers.has(i) ? { ...s, train: { columns: s.train.columns, rows: s.train.rows.slice(0, 1) } } : s));
    runs.push(await simulateOnce({ ...plan, sites }, seed, { logger: quietLogger }));
    process.stderr.write(`${d.dataset} withheld seed ${seed}: AUROC ${runs.at(-1)!.pooled.global.auroc?.toFixed(4)} (attackers ${[...attackers.keys()]})\n`);
  }
  return { auroc: runs.map((r) => r.pooled.global.auroc ?? Number.NaN), runs };
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Micro-averaged over seeds: quarantined by round BY_ROUND against the malicious sites. */
function detection(runs: readonly RunReport[]): { precision: number | null; recall: number | null } {
  let tp = 0;
  let flagged = 0;
  let malicious = 0;
  for (const r of runs) {
    const early = Object.entries(r.firstQuarantined ?? {}).filter(([, round]) => round <= BY_ROUND).map(([id]) => id);
    tp += early.filter((id) => r.malicious.includes(id)).length;
    flagged += early.length;
    malicious += r.malicious.length;
  }
  return { precision: flagged === 0 ? null : tp / flagged, recall: malicious === 0 ? null : tp / malicious };
}

const f3 = (x: number | null) => (x === null || Number.isNaN(x) ? "—" : x.toFixed(3));
const f2 = (x: number | null) => (x === null ? "—" : x.toFixed(2));

const results: Record<string, unknown> = {};
let out = `backend ${backend}; seeds ${datasets.map((d) => `${d.dataset} ${d.seeds.slice(0, take).join(", ")}`).join("; ")}; robust = \`--strategy robust --scoring\`; pooled AUROC of the final global model, mean over seeds\n\n`;
out += "| dataset | attack | FedAvg AUROC | robust AUROC | robust − clean robust | robust − attackers' rows withheld | quarantine precision by round 5 | recall by round 5 |\n|---|---|---|---|---|---|---|---|\n";
for (const d of datasets) {
  const cleanFedavg = await cell(d, FEDAVG);
  const cleanRobust = await cell(d, ROBUST);
  const cleanQuarantined = cleanRobust.runs.flatMap((r) => r.quarantined ?? []);
  const oracle = await withheld(d);
  const base = mean(cleanRobust.auroc);
  const floor = mean(oracle.auroc);
  out += `| ${d.label} | none (clean) | ${f3(mean(cleanFedavg.auroc))} | ${f3(base)} | — | withheld: ${f3(floor)} | quarantined: ${cleanQuarantined.length === 0 ? "none" : cleanQuarantined.join(", ")} | — |\n`;
  results[`${d.dataset}/clean`] = { fedavg: cleanFedavg.auroc, robust: cleanRobust.auroc, withheld: oracle.auroc, quarantined: cleanRobust.runs.map((r) => r.quarantined ?? []) };
  for (const attack of attacks) {
    const fedavg = await cell(d, FEDAVG, attack);
    const robust = await cell(d, ROBUST, attack);
    const det = detection(robust.runs);
    const signed = (x: number) => (x >= 0 ? "+" : "") + f3(x);
    out += `| ${d.label} | ${attack} | ${f3(mean(fedavg.auroc))} | ${f3(mean(robust.auroc))} | ${signed(mean(robust.auroc) - base)} | ${signed(mean(robust.auroc) - floor)} | ${f2(det.precision)} | ${f2(det.recall)} |\n`;
    results[`${d.dataset}/${attack}`] = {
      fedavg: fedavg.auroc,
      robust: robust.auroc,
      malicious: robust.runs.map((r) => r.malicious),
      firstQuarantined: robust.runs.map((r) => r.firstQuarantined ?? {}),
      ...det,
    };
  }
}
if (failures.length > 0) out += `\nFailed runs (left out of the means): ${failures.join("; ")}\n`;
process.stdout.write(out);
await mkdir("bench/results", { recursive: true });
const suffix = process.env.BENCH_ONLY ? `-${process.env.BENCH_ONLY}` : "";
await writeFile(`bench/results/attacks${suffix}.json`, JSON.stringify(results, null, 2));
await writeFile(`bench/results/attacks${suffix}.md`, out);
