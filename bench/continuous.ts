/**
 * @module
 * Continuous learning measured (`cli/simulate-continuous.ts`):
 *
 * 1. The 12-month timeline on FHIR: 10 hospitals' monthly bulk exports (`consilium synth --months
 *    12 --history 6`: 2000 patients a month, 36,000 in all), older patients at hospital 5 from
 *    month 4 and cholesterol in mmol/L labelled mg/dL at hospital 3 from month 6, replayed month by
 *    month with an operator's run at month 9 that hospital 10, the largest, attacks (scale:-10
 *    under plain FedAvg). `BENCH_SOURCE=tables` replays the synthetic tables instead.
 * 2. The same consortium of tables under a privacy policy: DP-SGD with ε 2 per run and a lifetime
 *    budget of 5 per site, a run every two months: each site's ε per run and in total.
 * 3. The cost of a month as the consortium grows: 5 and 10 hospitals, the same patients per
 *    hospital, as a ratio measured in this run.
 *
 * Prints each timeline's months (champion AUROC on the month's new patients beside the centrally
 * trained reference, flags, runs, gate decisions) and wall times. `BENCH_PARTS=timeline,privacy,cost`
 * (default all three) runs some of them; the results files are written for a full run only.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { timelineLines } from "../cli/commands/continuous-command.ts";
import { simulateContinuous, type ContinuousPlan, type ContinuousReport } from "../cli/simulate-continuous.ts";
import { loadMonthlyFhir, writeMonthlyCohort } from "../gpu-runner/data/monthly-fhir.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { parseDrifts } from "../gpu-runner/simulation/monthly-cohort.ts";
import { quietLogger } from "./plan.ts";

const backend = await selectBackend();
const months = Number(process.env.BENCH_MONTHS ?? 12);
const tables = process.env.BENCH_SOURCE === "tables";
const parts = new Set((process.env.BENCH_PARTS ?? "timeline,privacy,cost").split(",").map((p) => p.trim()));
for (const p of parts) if (!["timeline", "privacy", "cost"].includes(p)) throw new Error(`BENCH_PARTS: unknown part "${p}" (timeline, privacy, cost)`);
const base: ContinuousPlan = {
  sites: 10,
  months,
  patientsPerMonth: 2000,
  drifts: parseDrifts("shift:5@4:10,unit:3@6"),
  windowMonths: 6,
  scheduleMonths: 3,
  model: "mlp:16",
  training: { localEpochs: 5, lrSchedule: "constant", batchSize: 32, learningRate: 0.1, l2: 0.001, headEpochs: 2, headL2: 0.01 },
  rounds: 10,
  strategy: "fedavg",
  codec: "float32",
  attackMonth: 9,
  // The largest hospital: FedAvg weighs an update by its rows.
  attackSite: 9,
  seed: 1,
};

const lines = [`backend ${backend}`];
const worst = (report: ContinuousReport, gap: (m: ContinuousReport["timeline"][number]) => number | null) => Math.min(...report.timeline.map(gap).filter((g): g is number => g !== null));

// 1. The timeline with drifts and an attack, on FHIR exports (or tables).
let report: ContinuousReport | null = null;
if (parts.has("timeline")) {
const dir = await mkdtemp(join(tmpdir(), "consilium-bench-continuous-"));
try {
  let data;
  if (!tables) {
    const started = performance.now();
    await writeMonthlyCohort({ seed: base.seed, sites: base.sites, patientsPerMonth: base.patientsPerMonth, months, history: base.windowMonths, drifts: base.drifts }, dir);
    const written = (performance.now() - started) / 1000;
    const mapStarted = performance.now();
    data = await loadMonthlyFhir(dir);
    lines.push(`FHIR: ${base.sites} hospitals' monthly exports, ${months + base.windowMonths} months × ${base.patientsPerMonth} patients (${((months + base.windowMonths) * base.patientsPerMonth).toLocaleString("en-US")}), written in ${written.toFixed(1)} s, mapped in ${((performance.now() - mapStarted) / 1000).toFixed(1)} s`);
  } else {
    lines.push(`synthetic tables: ${base.sites} hospitals, ${months + base.windowMonths} months × ${base.patientsPerMonth} patients`);
  }
  report = await simulateContinuous(base, { logger: quietLogger, ...(data && { data }) });
} finally {
  await rm(dir, { recursive: true, force: true });
}
lines.push(...timelineLines(report));
const all = worst(report, (m) => (m.championAuroc !== null && m.referenceAuroc !== null ? m.championAuroc - m.referenceAuroc : null));
const kept = worst(report, (m) => (m.championAurocKept !== null && m.referenceAurocKept !== null ? m.championAurocKept - m.referenceAurocKept : null));
lines.push(`largest shortfall of the champion against the reference: ${(-all).toFixed(3)} AUROC on every site's patients, ${(-kept).toFixed(3)} leaving out those of a site held out for a unit error`);
const attacked = report.timeline.find((m) => m.month === base.attackMonth);
for (const d of attacked?.decisions ?? []) lines.push(`the attacked run's version ${d.version}: ${d.promoted ? "promoted" : d.judged ? "rejected" : "not judged"}: ${d.reason}`);
}

// 2. Under a privacy policy with a lifetime budget.
let privateReport: ContinuousReport | null = null;
if (parts.has("privacy")) {
const privacyPlan: ContinuousPlan = { ...base, drifts: [], attackMonth: undefined, attackSite: undefined, scheduleMonths: 2, privacy: { level: "sample", epsilon: 2, delta: 1e-5, clip: 1, lifetimeEpsilon: 5 } };
privateReport = await simulateContinuous(privacyPlan, { logger: quietLogger });
lines.push("", "under DP-SGD, ε 2 per run, lifetime ε 5 per site, a run every two months (synthetic tables, no drift):");
lines.push(...timelineLines(privateReport));
const over = privateReport.timeline.flatMap((m) => (m.epsilon ?? []).filter((e) => e.total > 5 * (1 + 1e-6)));
lines.push(over.length === 0 ? "no site's ε over all runs passed its lifetime budget in any month" : `LIFETIME BUDGET PASSED: ${JSON.stringify(over)}`);
}

// 3. The cost of a month as the consortium grows: months 1-3 with 5 and with 10 hospitals, the same patients per hospital.
const month = async (sites: number): Promise<ContinuousReport> => simulateContinuous({ ...base, sites, months: 3, patientsPerMonth: 200 * sites, drifts: [], attackMonth: undefined, attackSite: undefined }, { logger: quietLogger });
let cost: { five: number[]; ten: number[] } | null = null;
if (parts.has("cost")) {
  const [five, ten] = [await month(5), await month(10)];
  const perMonth = (r: ContinuousReport) => r.monthSeconds.slice(1).reduce((a, b) => a + b, 0) / (r.monthSeconds.length - 1);
  lines.push("", `a month (check-ins, runs, pulls, measurement): ${perMonth(five).toFixed(1)} s with 5 hospitals, ${perMonth(ten).toFixed(1)} s with 10: ${(perMonth(ten) / perMonth(five)).toFixed(2)}× for 2× the hospitals`);
  cost = { five: five.monthSeconds, ten: ten.monthSeconds };
}
for (const line of lines) console.log(line);
if (parts.size === 3) {
  await mkdir("bench/results", { recursive: true });
  await writeFile("bench/results/continuous.md", `${lines.join("\n")}\n`);
  await writeFile("bench/results/continuous.json", JSON.stringify({ backend, report, privateReport, cost }, null, 2));
}
