/**
 * @module
 * What `consilium simulate` prints when its runs are done: the per-site table, pooled metrics, and
 * a line for each thing a run found worth saying (attackers, quarantines, data quality, stale
 * updates, secure aggregation, features, privacy spent).
 */
import Table from "cli-table3";
import type { Interval } from "../core/metrics/interval.ts";
import { describeRule, type RatesAt } from "../core/metrics/operating-point.ts";
import type { Report, RunReport, Stat } from "../core/schemas/report.ts";

const whole = (s: Stat, seeds: number) => (s.mean === null ? "—" : seeds > 1 ? `${Math.round(s.mean)} ± ${Math.round(s.sd ?? 0)}` : String(Math.round(s.mean)));
const fmt = (s: Stat, seeds: number) => (s.mean === null ? "—" : seeds > 1 ? `${s.mean.toFixed(3)} ± ${(s.sd ?? 0).toFixed(3)}` : s.mean.toFixed(3));

/** A 95 % interval to two places, rounded outwards so the printed interval never claims more than the computed one. */
export const spanText = ([lo, hi]: Interval): string => `${(Math.floor(lo * 100 + 1e-9) / 100).toFixed(2)}–${(Math.ceil(hi * 100 - 1e-9) / 100).toFixed(2)}`;

/** One seed: the figure and its 95 % interval, `0.812 (0.74–0.87)`; several: mean ± sd over the seeds. */
const withSpan = (s: Stat, seeds: number, span: Interval | null | undefined) =>
  seeds === 1 && s.mean !== null && span ? `${fmt(s, seeds)} (${spanText(span)})` : fmt(s, seeds);

/** One line on a secure run: the graph, what the phases accepted, what failed. */
function secureSummary(r: RunReport): string {
  const secure = r.rounds.flatMap((x) => (x.secure ? [x.secure] : []));
  if (secure.length === 0) return "secure aggregation inside each region: each region's coordinator saw only its sites' masked inputs and their sum, the global coordinator only regional means";
  const graphs = [...new Set(secure.map((x) => `${x.participants} sites, k ${x.neighbours}, t ${x.threshold}`))].join("; ");
  const masked = secure.reduce((n, x) => n + x.masked, 0);
  const answered = secure.reduce((n, x) => n + x.unmasked, 0);
  const failed = r.rounds.filter((x) => x.status === "skipped");
  const why = failed.length > 0 ? `; ${failed.length} round(s) skipped: ${failed.map((x) => `round ${x.round}: ${x.reason ?? "?"}`).join("; ")}` : "";
  return `secure aggregation (SecAgg+; ${graphs || "no round opened"}): the coordinator saw only the sums of ${masked} masked inputs over ${secure.length} rounds, unmasked with ${answered} sites' answers${why}`;
}

const rate = (v: number | null, span: Interval | null) => (v === null ? "—" : span ? `${v.toFixed(3)} (${spanText(span)})` : v.toFixed(3));

/** The global model at the operating threshold next to 0.5: pooled, and with one seed per site. */
function operatingPointLines(r: RunReport, perSite: boolean, style: { head: never[]; border?: never[] }): string[] {
  const op = r.operatingPoint!;
  const at = (x: RatesAt) => `sensitivity ${rate(x.sensitivity, x.intervals.sensitivity)}, specificity ${rate(x.specificity, x.intervals.specificity)}, PPV ${rate(x.ppv, x.intervals.ppv)}, NPV ${rate(x.npv, x.intervals.npv)}`;
  const lines = [
    `seed ${r.seed}: operating point of the global model, ${describeRule(op.rule)} on ${op.chosenOn.rows} training rows of ${op.chosenOn.sites} sites: threshold ${op.threshold.toFixed(3)}`,
    `  pooled at ${op.threshold.toFixed(3)}: ${at(op.pooled)}`,
    `  pooled at 0.500: ${at(op.pooledAtHalf)}`,
  ];
  if (perSite) {
    const nameOf = (id: string) => r.sites.find((s) => s.id === id)?.name ?? id;
    const table = new Table({ head: ["site", `sens. at ${op.threshold.toFixed(3)}`, "spec.", "PPV", "NPV", "sens. at 0.5", "spec.", "PPV", "NPV"], style });
    const cells = (x: RatesAt) => [x.sensitivity, x.specificity, x.ppv, x.npv].map((v) => (v === null ? "—" : v.toFixed(3)));
    for (const s of op.sites) table.push([nameOf(s.siteId), ...cells(s.at), ...cells(s.atHalf)]);
    lines.push(table.toString());
  }
  return lines;
}

/** A K-class model's pooled per-class figures (global model) and its confusion matrix, for one seed. */
export function classLines(seed: number, c: NonNullable<Report["runs"][number]["classes"]>, style: { head: string[]; border?: string[] }): string[] {
  const g = c.global;
  const rate = (x: number | null) => (x === null ? "—" : x.toFixed(3));
  const perClass = new Table({ head: ["class", "prevalence", "sensitivity", "specificity", "AUROC (one vs rest)"], style });
  g.classes.forEach((k, i) => perClass.push([c.names[i] ?? String(i), rate(k.prevalence), rate(k.sensitivity), rate(k.specificity), rate(k.auroc)]));
  const confusion = new Table({ head: ["true / predicted", ...c.names], style });
  g.confusion.forEach((row, t) => confusion.push([c.names[t] ?? String(t), ...row.map(String)]));
  return [
    `seed ${seed}: the global model by class, pooled over every site's test rows (accuracy ${rate(g.accuracy)}, macro AUROC ${rate(g.macroAuroc)}):`,
    perClass.toString(),
    `seed ${seed}: confusion matrix of the global model (rows: true class, columns: predicted, the most probable class):`,
    confusion.toString(),
  ];
}

export function printReport(report: Report, line: (s: string) => void, tty: boolean): void {
  const n = report.seeds.length;
  // Grey borders on a terminal; plain characters when the output is a file or a pipe.
  const style = tty ? { head: [] } : { head: [], border: [] };
  const table = new Table({ head: ["site", "train", "test", "global", "personalized", "local only", "centralized"], style });
  // With one seed its run holds the intervals of the figures the summary repeats.
  const run = n === 1 ? report.runs[0] : undefined;
  for (const s of report.sites) {
    const spans = run?.sites.find((x) => x.id === s.id)?.accuracyIntervals;
    const cell = (k: keyof typeof s.accuracy) => withSpan(s.accuracy[k], n, spans?.[k]);
    table.push([s.name, s.trainRows, s.testRows, cell("global"), cell("personalized"), cell("local"), cell("centralized")]);
  }
  const m = report.meanSiteAccuracy;
  table.push(["mean site accuracy", "", "", fmt(m.global, n), fmt(m.personalized, n), fmt(m.local, n), fmt(m.centralized, n)]);
  line(table.toString());
  const p = report.pooled;
  // A K-class model: accuracy and macro AUROC pooled; sensitivity and specificity are per class, below.
  const classed = report.runs.some((r) => r.classes);
  for (const [name, key] of [["global", "global"], ["personalized", "personalized"], ["local only", "local"], ["centralized", "centralized"]] as const) {
    const v = p[key];
    const spans = run?.pooled[key].intervals;
    if (classed) line(`pooled ${name.padEnd(12)} accuracy ${withSpan(v.accuracy, n, spans?.accuracy)}  macro AUROC ${fmt(v.auroc, n)}`);
    else line(`pooled ${name.padEnd(12)} accuracy ${withSpan(v.accuracy, n, spans?.accuracy)}  AUROC ${withSpan(v.auroc, n, spans?.auroc)}  sensitivity ${withSpan(v.sensitivity, n, spans?.sensitivity)}  specificity ${withSpan(v.specificity, n, spans?.specificity)}`);
  }
  line(
    run
      ? "(lo–hi): 95 % interval over the test rows (Wilson; DeLong on the logit scale for AUROC)"
      : `± is the sd over ${n} seeds, the spread of training; each seed's 95 % intervals are in --json runs[]`,
  );
  for (const r of report.runs) {
    if (r.operatingPoint) for (const l of operatingPointLines(r, run !== undefined, style)) line(l);
    if (r.classes) for (const l of classLines(r.seed, r.classes, style)) line(l);
    const chose = r.sites.filter((s) => s.personalChoice);
    if (chose.length > 0) {
      const kept = chose.filter((s) => s.personalChoice!.kind === "personal");
      const global = chose.filter((s) => s.personalChoice!.kind === "global");
      line(`seed ${r.seed}: personal model kept at ${kept.length} of ${chose.length} sites, judged on a validation share of each site's training rows${global.length > 0 ? `; the global model at ${global.map((s) => s.name).join(", ")}` : ""}`);
    }
    if (r.malicious.length > 0) line(`seed ${r.seed}: malicious sites ${r.malicious.join(", ")}`);
    if (r.quarantined) line(`seed ${r.seed}: quarantined ${r.quarantined.length === 0 ? "none" : r.quarantined.map((id) => `${id} (from round ${r.firstQuarantined?.[id] ?? "?"})`).join(", ")}`);
    const nameOf = (id: string) => r.sites.find((s) => s.id === id)?.name ?? id;
    for (const f of r.quality?.flags ?? []) {
      const excluded = r.quality?.excluded.includes(f.siteId) ? " [excluded]" : "";
      line(`seed ${r.seed}: data quality, ${nameOf(f.siteId)}${excluded}: ${f.reason}`);
    }
    if (r.quality?.note) line(`seed ${r.seed}: data quality: ${r.quality.note}`);
    const stale = r.rounds.reduce((n, x) => n + (x.stale ?? 0), 0);
    if (r.rounds.some((x) => x.stale !== undefined)) line(`seed ${r.seed}: asynchronous rounds: ${stale} of ${r.rounds.reduce((n, x) => n + x.sites, 0)} updates counted stale, in a later round than they were trained in`);
    if (r.aggregation === "secure") line(`seed ${r.seed}: ${secureSummary(r)}`);
    for (const f of r.features?.features ?? []) {
      if (f.providedBy === f.sites) continue;
      const lacking = f.notProvidedBy && f.notProvidedBy.length > 0 ? ` (no values at ${f.notProvidedBy.map(nameOf).join(", ")})` : "";
      const verdict = f.used ? "used, imputed where absent" : `not used: below the quorum of ${((r.features?.quorum ?? 0) * 100).toFixed(0)}%`;
      line(`seed ${r.seed}: feature ${f.name} provided by ${f.providedBy} of ${f.sites} sites${lacking}; ${verdict}`);
    }
    for (const p of r.privacy ?? []) {
      const refused = p.refusedRounds.length > 0 ? `; refused rounds ${p.refusedRounds.join(", ")}` : "";
      line(`seed ${r.seed}: ${nameOf(p.siteId)} spent ε ${p.epsilon.toFixed(3)} of ${p.budget} at δ ${p.delta} (${p.level} level, noise multiplier ${p.noiseMultiplier.toFixed(3)})${refused}`);
    }
  }
  line(`federated/centralized mean site accuracy ${fmt(report.federatedToCentralized, n)}; bytes up ${whole(report.bytes.up, n)}, down ${whole(report.bytes.down, n)}; rejected inputs ${whole(report.rejections, n)}; backend ${report.backend}; ${fmt(report.wallSeconds, n)} s per run`);
}
