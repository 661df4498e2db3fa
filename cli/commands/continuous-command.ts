/**
 * @module
 * `consilium simulate --months M`: a consortium that keeps training, replayed month by month on
 * synthetic hospitals with planted drifts (`cli/simulate-continuous.ts`). Prints one line per
 * month (champion, its pooled AUROC on the month's new patients beside the central reference,
 * drift flags, runs started and why, gate decisions), and the whole report as JSON with --json.
 */
import { writeFile } from "node:fs/promises";
import { z } from "zod";
import { PrivacyPolicy } from "../../core/schemas/privacy.ts";
import { BackendName, selectBackend } from "../../gpu-runner/model/backend.ts";
import { isMonthlyFhir, loadMonthlyFhir, type MonthlyData } from "../../gpu-runner/data/monthly-fhir.ts";
import { parseDrifts, type PlantedDrift } from "../../gpu-runner/simulation/monthly-cohort.ts";
import { simulateContinuous, type ContinuousReport } from "../simulate-continuous.ts";
import { boolFlag, choiceFlag, ioLogger, intFlag, parseFlags, processIo, textFlag, UsageError, type CommandIo, type CommandSpec } from "./flags.ts";

const positive = (max: number) =>
  z
    .string()
    .regex(/^\s*(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/, "expected a positive number")
    .transform(Number)
    .pipe(z.number().positive("expected a positive number").max(max));

export const ContinuousFlags = z.object({
  months: intFlag(1, 120),
  sites: intFlag(2, 200).optional(),
  "patients-per-month": intFlag(20, 1_000_000).optional(),
  drift: z.string().optional(),
  fhir: textFlag().optional(),
  window: intFlag(2, 60).default(6),
  "schedule-months": intFlag(1, 120).default(3),
  model: textFlag().default("mlp:16"),
  rounds: intFlag(1, 1000).default(10),
  "local-epochs": intFlag(1, 100).default(5),
  lr: positive(10).default(0.1),
  strategy: textFlag().default("fedavg"),
  codec: textFlag().default("float32"),
  "attack-month": intFlag(1, 120).optional(),
  "attack-site": intFlag(1, 200).optional(),
  "dp-epsilon": positive(1000).optional(),
  "dp-lifetime-epsilon": positive(10000).optional(),
  "dp-delta": positive(0.1).optional(),
  "dp-clip": positive(1e6).optional(),
  seed: intFlag(0, 2 ** 31 - 1).default(1),
  backend: choiceFlag(BackendName).optional(),
  json: textFlag().optional(),
  verbose: boolFlag(),
});
export type ContinuousFlags = z.infer<typeof ContinuousFlags>;

const DP_NEEDS_EPSILON = "--dp-lifetime-epsilon, --dp-delta and --dp-clip need --dp-epsilon E";

export const continuousSpec: CommandSpec<typeof ContinuousFlags> = {
  name: "simulate --months",
  summary:
    "A consortium that keeps training, month by month on a virtual clock, on synthetic hospitals (age, cholesterol, blood pressure, smoking) with drifts planted by --drift. Sites check in each month with last month's labelled rows; runs start from the schedule and from drift; the gate judges every version; sites pull the champion. Prints the champion's pooled AUROC on each month's new patients beside a model trained centrally on the trailing window.",
  schema: ContinuousFlags,
  flags: {
    months: { type: "string", value: "M", help: "months to replay after the first run (trained on the window before month 1)" },
    sites: { type: "string", value: "N", help: "hospitals (default 10)" },
    "patients-per-month": { type: "string", value: "P", help: "patients admitted per month over all hospitals (default 2000)" },
    drift: { type: "string", value: "SPEC", help: "planted drifts, comma-separated: unit:SITE@MONTH (cholesterol in mmol/L labelled mg/dL), shift:SITE@MONTH:YEARS (older patients), prevalence:SITE@MONTH:LOGODDS" },
    fhir: { type: "string", value: "DIR", help: "replay the hospitals' monthly FHIR exports in DIR (consilium synth --months writes them; their sites and drifts replace --sites, --patients-per-month and --drift)" },
    window: { type: "string", value: "MONTHS", help: "labelled months a run trains on, its last held out at each site (default 6)" },
    "schedule-months": { type: "string", value: "MONTHS", help: "a run on schedule this long after the last started (default 3)" },
    model: { type: "string", value: "SPEC", help: "the model (default mlp:16)" },
    rounds: { type: "string", value: "N", help: "rounds per run (default 10)" },
    "local-epochs": { type: "string", value: "N", help: "local epochs per round (default 5)" },
    lr: { type: "string", value: "RATE", help: "local learning rate (default 0.1)" },
    strategy: { type: "string", value: "NAME", help: "aggregation strategy (default fedavg)" },
    codec: { type: "string", value: "SPEC", help: "update codec (default float32)" },
    "attack-month": { type: "string", value: "M", help: "an operator's run at month M in which one site sends scale:-10 updates: the gate must reject its model" },
    "attack-site": { type: "string", value: "N", help: "with --attack-month, the attacking site (default 1, the smallest)" },
    "dp-epsilon": { type: "string", value: "E", help: "differential privacy (DP-SGD at every site): each run's ε budget per site" },
    "dp-lifetime-epsilon": { type: "string", value: "E", help: "with --dp-epsilon: the ε each site may spend over all runs on its patients (default: one run's); a site declines the rounds that would pass it" },
    "dp-delta": { type: "string", value: "D", help: "the δ of those budgets (default 1e-5)" },
    "dp-clip": { type: "string", value: "C", help: "the L2 bound per example (default 1)" },
    seed: { type: "string", value: "S", help: "seed of the hospitals' patients and the training (default 1)" },
    backend: { type: "string", value: "NAME", help: `TensorFlow.js backend: ${BackendName.join(", ")}` },
    json: { type: "string", value: "FILE", help: "write the report (timeline[], versions[], runs[]) as JSON" },
    verbose: { type: "boolean", help: "print the coordinator's and runners' info lines" },
  },
};

const fmt = (x: number | null) => (x === null ? "  —  " : x.toFixed(3));

/** One line per month, for people. */
export function timelineLines(report: ContinuousReport): string[] {
  const lines = ["month  champion  AUROC  reference  gap     gap*    flags / runs / gate"];
  const gapOf = (a: number | null, b: number | null) => (a !== null && b !== null ? (a - b).toFixed(3).padStart(6) : "   —  ");
  for (const m of report.timeline) {
    const gap = `${gapOf(m.championAuroc, m.referenceAuroc)}  ${gapOf(m.championAurocKept, m.referenceAurocKept)}`;
    const notes = [
      ...m.flags.map((f) => `flag ${f.siteId} ${f.check}${f.feature ? ` ${f.feature}` : ""}`),
      ...(m.excluded.length ? [`excluded ${m.excluded.join(", ")}`] : []),
      ...m.runsStarted.map((r) => `run ${r.seq} (${r.triggers.map((t) => t.kind).join("+")})${r.abandoned === null ? "" : " abandoned"}`),
      ...m.decisions.map((d) => `v${d.version} ${d.promoted ? "promoted" : d.judged ? "rejected" : "not judged"}`),
    ];
    lines.push(`${String(m.month).padStart(5)}  ${String(m.champion ?? "—").padStart(8)}  ${fmt(m.championAuroc)}  ${fmt(m.referenceAuroc).padStart(9)}  ${gap}  ${notes.join("; ")}`);
  }
  lines.push(...privacyLines(report));
  lines.push(`${report.timeline.length} months in ${report.wallSeconds.toFixed(1)} s; ${report.runs.length} runs, ${report.versions.length} versions; gap* leaves out the patients of sites a drift exclusion holds out that month`);
  return lines;
}

/** Under a privacy policy: each site's ε per run and in total against its lifetime budget, from its own ledger. */
export function privacyLines(report: ContinuousReport): string[] {
  if (report.privacy === null) return [];
  const runIds = [...new Set(report.privacy.flatMap((p) => p.runs.map((r) => r.run)))];
  const seqOf = (id: string) => report.runs.find((r) => r.id === id)?.seq ?? id;
  const head = `site        ${runIds.map((id) => `run ${seqOf(id)}`.padStart(7)).join("")}    total  lifetime`;
  const lines = [`privacy: ε per run and over all runs at each site (δ ${report.plan.privacy?.delta ?? "—"}), from the site's ledger (the RDP accountant composes runs: less than their sum)`, head];
  for (const p of report.privacy) {
    const cells = runIds.map((id) => {
      const run = p.runs.find((r) => r.run === id);
      return (run === undefined ? "—" : run.epsilon.toFixed(2)).padStart(7);
    });
    lines.push(`${p.siteId.padEnd(10)}  ${cells.join("")}  ${p.total.toFixed(2).padStart(7)}  ${p.lifetimeBudget.toFixed(2).padStart(8)}`);
  }
  return lines;
}

export async function continuousCommand(argv: readonly string[], io: CommandIo = processIo): Promise<ContinuousReport> {
  const flags = parseFlags(continuousSpec, argv, io.env);
  let drifts: PlantedDrift[];
  let sites: number;
  let patientsPerMonth: number;
  let data: MonthlyData | undefined;
  if (flags.fhir !== undefined) {
    if (flags.sites !== undefined || flags["patients-per-month"] !== undefined || flags.drift !== undefined) throw new UsageError("--fhir: the exports name their sites, patients and drifts; leave out --sites, --patients-per-month and --drift");
    if (!(await isMonthlyFhir(flags.fhir))) throw new UsageError(`--fhir: ${flags.fhir} holds no months.json: write monthly exports with consilium synth --months M --out ${flags.fhir}`);
    const loaded = await loadMonthlyFhir(flags.fhir).catch((err: unknown) => {
      throw new UsageError(`--fhir: ${(err as Error).message}`);
    });
    if (loaded.first > 1 - flags.window || loaded.last < flags.months) throw new UsageError(`--fhir: the replay needs months ${1 - flags.window} to ${flags.months} (--window ${flags.window} before month 1); ${flags.fhir} holds ${loaded.first} to ${loaded.last}`);
    ({ drifts } = loaded.manifest);
    sites = loaded.sites.length;
    patientsPerMonth = loaded.manifest.patientsPerMonth;
    data = loaded;
  } else {
    try {
      drifts = parseDrifts(flags.drift ?? "");
    } catch (err) {
      throw new UsageError(`--drift: ${(err as Error).message}`);
    }
    sites = flags.sites ?? 10;
    patientsPerMonth = flags["patients-per-month"] ?? 2000;
  }
  if (flags["attack-site"] !== undefined && (flags["attack-site"] > sites || flags["attack-month"] === undefined)) throw new UsageError("--attack-site: a site of --sites, with --attack-month");
  const outOfRange = drifts.find((d) => d.site >= sites);
  if (outOfRange) throw new UsageError(`--drift: site ${outOfRange.site + 1} is past --sites ${sites}`);
  if (flags["dp-epsilon"] === undefined && (flags["dp-lifetime-epsilon"] !== undefined || flags["dp-delta"] !== undefined || flags["dp-clip"] !== undefined)) throw new UsageError(DP_NEEDS_EPSILON);
  let privacy: PrivacyPolicy | undefined;
  if (flags["dp-epsilon"] !== undefined) {
    privacy = PrivacyPolicy.parse({ level: "sample", epsilon: flags["dp-epsilon"], delta: flags["dp-delta"], clip: flags["dp-clip"], lifetimeEpsilon: flags["dp-lifetime-epsilon"] });
    if ((privacy.lifetimeEpsilon ?? privacy.epsilon) < privacy.epsilon) throw new UsageError("--dp-lifetime-epsilon: below --dp-epsilon, no run could train");
  }
  await selectBackend(flags.backend);
  const report = await simulateContinuous(
    {
      sites,
      months: flags.months,
      patientsPerMonth,
      drifts,
      windowMonths: flags.window,
      scheduleMonths: flags["schedule-months"],
      model: flags.model,
      training: { localEpochs: flags["local-epochs"], lrSchedule: "constant", batchSize: 32, learningRate: flags.lr, l2: 0.001, headEpochs: 2, headL2: 0.01 },
      rounds: flags.rounds,
      strategy: flags.strategy,
      codec: flags.codec,
      ...(flags["attack-month"] !== undefined && { attackMonth: flags["attack-month"] }),
      ...(flags["attack-site"] !== undefined && { attackSite: flags["attack-site"] - 1 }),
      ...(privacy && { privacy }),
      seed: flags.seed,
    },
    { logger: ioLogger(io, flags.verbose), ...(data && { data }) },
  );
  for (const line of timelineLines(report)) io.out(line);
  if (flags.json !== undefined) await writeFile(flags.json, JSON.stringify(report, null, 2));
  return report;
}
