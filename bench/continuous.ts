/**
 * @module
 * The continuous-learning timeline (`cli/simulate-continuous.ts`): 10 hospitals, 12 months after a
 * first run on six months of history, 2000 patients a month (36,000 in all), older patients at
 * hospital 5 from month 4 and cholesterol in mmol/L at hospital 3 from month 6, and an operator's
 * run at month 9 that hospital 10, the largest, attacks (scale:-10 under plain FedAvg). Prints each month's
 * champion AUROC on the month's new patients beside the centrally trained reference, the flags,
 * runs and gate decisions, and the wall time; then the cost of a month with 5 and with 10
 * hospitals (the same patients per hospital), as a ratio measured in this run.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { simulateContinuous, type ContinuousPlan, type ContinuousReport } from "../cli/simulate-continuous.ts";
import { timelineLines } from "../cli/commands/continuous-command.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { parseDrifts } from "../gpu-runner/simulation/monthly-cohort.ts";
import { quietLogger } from "./plan.ts";

const backend = await selectBackend();
const base: ContinuousPlan = {
  sites: 10,
  months: Number(process.env.BENCH_MONTHS ?? 12),
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

const report = await simulateContinuous(base, { logger: quietLogger });
const lines = [`backend ${backend}`, ...timelineLines(report)];
const worst = (gap: (m: ContinuousReport["timeline"][number]) => number | null) => Math.min(...report.timeline.map(gap).filter((g): g is number => g !== null));
const all = worst((m) => (m.championAuroc !== null && m.referenceAuroc !== null ? m.championAuroc - m.referenceAuroc : null));
const kept = worst((m) => (m.championAurocKept !== null && m.referenceAurocKept !== null ? m.championAurocKept - m.referenceAurocKept : null));
lines.push(`largest shortfall of the champion against the reference: ${(-all).toFixed(3)} AUROC on every site's patients, ${(-kept).toFixed(3)} leaving out those of a site held out for a unit error`);
const attacked = report.timeline.find((m) => m.month === base.attackMonth);
for (const d of attacked?.decisions ?? []) lines.push(`the attacked run's version ${d.version}: ${d.promoted ? "promoted" : d.judged ? "rejected" : "not judged"}: ${d.reason}`);

// The cost of a month as the consortium grows: months 1-3 with 5 and with 10 hospitals, the same patients per hospital.
const month = async (sites: number): Promise<ContinuousReport> => simulateContinuous({ ...base, sites, months: 3, patientsPerMonth: 200 * sites, drifts: [], attackMonth: undefined, attackSite: undefined }, { logger: quietLogger });
const [five, ten] = [await month(5), await month(10)];
const perMonth = (r: ContinuousReport) => r.monthSeconds.slice(1).reduce((a, b) => a + b, 0) / (r.monthSeconds.length - 1);
lines.push(`a month (check-ins, runs, pulls, measurement): ${perMonth(five).toFixed(1)} s with 5 hospitals, ${perMonth(ten).toFixed(1)} s with 10: ${(perMonth(ten) / perMonth(five)).toFixed(2)}× for 2× the hospitals`);
for (const line of lines) console.log(line);
await mkdir("bench/results", { recursive: true });
await writeFile("bench/results/continuous.md", `${lines.join("\n")}\n`);
await writeFile("bench/results/continuous.json", JSON.stringify({ backend, report, cost: { five: five.monthSeconds, ten: ten.monthSeconds } }, null, 2));
