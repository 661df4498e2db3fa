/**
 * @module
 * What `consilium simulate` prints when its runs are done: the per-site table, pooled metrics, and
 * a line for each thing a run found worth saying (attackers, quarantines, data quality, stale
 * updates, secure aggregation, features, privacy spent).
 */
import Table from "cli-table3";
import type { Report, RunReport, Stat } from "../core/schemas/report.ts";

const whole = (s: Stat, seeds: number) => (s.mean === null ? "—" : seeds > 1 ? `${Math.round(s.mean)} ± ${Math.round(s.sd ?? 0)}` : String(Math.round(s.mean)));
const fmt = (s: Stat, seeds: number) => (s.mean === null ? "—" : seeds > 1 ? `${s.mean.toFixed(3)} ± ${(s.sd ?? 0).toFixed(3)}` : s.mean.toFixed(3));

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

export function printReport(report: Report, line: (s: string) => void, tty: boolean): void {
  const n = report.seeds.length;
  // Grey borders on a terminal; plain characters when the output is a file or a pipe.
  const style = tty ? { head: [] } : { head: [], border: [] };
  const table = new Table({ head: ["site", "train", "test", "global", "personalised", "local only", "centralized"], style });
  for (const s of report.sites) {
    table.push([s.name, s.trainRows, s.testRows, fmt(s.accuracy.global, n), fmt(s.accuracy.personalized, n), fmt(s.accuracy.local, n), fmt(s.accuracy.centralized, n)]);
  }
  const m = report.meanSiteAccuracy;
  table.push(["mean site accuracy", "", "", fmt(m.global, n), fmt(m.personalized, n), fmt(m.local, n), fmt(m.centralized, n)]);
  line(table.toString());
  const p = report.pooled;
  for (const [name, v] of [["global", p.global], ["personalised", p.personalized], ["local only", p.local], ["centralized", p.centralized]] as const) {
    line(`pooled ${name.padEnd(12)} accuracy ${fmt(v.accuracy, n)}  AUROC ${fmt(v.auroc, n)}  sensitivity ${fmt(v.sensitivity, n)}  specificity ${fmt(v.specificity, n)}`);
  }
  for (const r of report.runs) {
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
