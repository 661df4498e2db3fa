/**
 * @module
 * `consilium status` and `consilium rounds list|show R`: where a consortium's active run stands,
 * from an operator's seat (a viewer's credential is enough), against any coordinator URL, the
 * credential from the environment. Tables for people, `--json` for scripts.
 */
import Table from "cli-table3";
import { z } from "zod";
import { ConsiliumError } from "../../core/errors.ts";
import type { ClinicalMetrics } from "../../core/metrics/clinical-metrics.ts";
import type { FederationStatus, RoundStatus } from "../../core/schemas/status.ts";
import { boolFlag, parseFlags, processIo, textFlag, UsageError, urlFlag, type CommandIo, type CommandSpec } from "./flags.ts";
import { operatorClient } from "./operator-client.ts";

export const StatusFlags = z.object({
  coordinator: urlFlag(),
  "admin-token": textFlag(),
  json: boolFlag(),
});
export type StatusFlags = z.infer<typeof StatusFlags>;

/** An operator command's credential flag where a viewer's is enough. */
export const tokenFlag = { type: "string", value: "T", env: "CONSILIUM_ADMIN_TOKEN", secret: true, help: "an operator's credential (a viewer's is enough) or the admin token" } as const;

export const statusSpec: CommandSpec<typeof StatusFlags> = {
  name: "status",
  summary: "Where the consortium's active run stands: its phase and round, its sites (statistics, updates, evaluation, quarantine), the last rounds, refusals and what blocks it, and the final metrics once it is done.",
  schema: StatusFlags,
  flags: {
    coordinator: { type: "string", value: "URL", help: "the coordinator's URL" },
    "admin-token": tokenFlag,
    json: { type: "boolean", help: "print the status as JSON" },
  },
};

export const roundsSpec: CommandSpec<typeof StatusFlags> = {
  name: "rounds",
  summary: "The active run's rounds: `rounds list` (each round's status, updates, bytes, its base model's pooled AUROC and how long it took), `rounds show R` (one round whole: the sites included, refused with their reasons, the scores and decisions).",
  schema: StatusFlags,
  flags: { ...statusSpec.flags, json: { type: "boolean", help: "print the rounds (list) or the round (show) as JSON" } },
};

const auroc = (m: ClinicalMetrics | null) => (m?.auroc === null || m?.auroc === undefined ? "—" : m.auroc.toFixed(3));
const seconds = (r: RoundStatus) => (r.closedAt === undefined ? "—" : `${((r.closedAt - r.openedAt) / 1000).toFixed(1)} s`);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

function statusLines(s: FederationStatus): string[] {
  const lines = [`${s.federation}: ${s.state.phase}${s.state.phase === "training" ? `, round ${s.state.round} of ${s.rounds}` : ""}; model v${s.state.modelVersion}; ${s.strategy}, ${s.codec}${s.secureAggregation ? ", secure aggregation" : ""}`];
  if (s.blocked) lines.push(`blocked: ${s.blocked.code}: ${s.blocked.message}`);
  const sites = new Table({ head: ["site", "name", "statistics", "updates", "evaluated", "quarantined"], style: { head: [], border: [] } });
  for (const site of s.sites) sites.push([site.id, site.name, site.statsReported ? "reported" : "—", site.updates, site.evaluated ? "yes" : "—", site.quarantined ? `until round ${site.quarantinedUntil}` : ""]);
  lines.push(sites.toString());
  const last = s.roundLog.slice(-5);
  if (last.length > 0) lines.push(...roundsLines(last));
  const excluded = s.quality?.excluded ?? [];
  if (excluded.length > 0) lines.push(`excluded by the data-quality checks: ${excluded.join(", ")}`);
  lines.push(`${s.rejectionsTotal ?? s.rejections.length} refusals recorded${s.rejections.length > 0 ? `; newest: ${s.rejections.at(-1)!.code} (${s.rejections.at(-1)!.siteId ?? "before a site was known"})` : ""}`);
  if (s.final) lines.push(`final pooled AUROC: global ${auroc(s.final.global)}, personalized ${auroc(s.final.personalized)}, local-only ${auroc(s.final.local)} (${s.final.sites} sites)`);
  return lines;
}

function roundsLines(rounds: readonly RoundStatus[]): string[] {
  const table = new Table({ head: ["round", "status", "updates", "included", "refused", "up", "down", "base AUROC", "took"], style: { head: [], border: [] } });
  for (const r of rounds) table.push([r.round, r.status, r.updates, r.included?.length ?? "—", r.rejected?.length ?? 0, mb(r.bytesUp), mb(r.bytesDown), auroc(r.baseModel), seconds(r)]);
  return [table.toString()];
}

function roundLines(r: RoundStatus): string[] {
  const lines = [`round ${r.round}: ${r.status}${r.reason ? ` (${r.reason})` : ""}; from model v${r.baseVersion}${r.resultVersion !== undefined ? ` to v${r.resultVersion}` : ""}; ${r.updates} updates, ${mb(r.bytesUp)} up, ${mb(r.bytesDown)} down; took ${seconds(r)}`];
  if (r.included) lines.push(`included: ${r.included.join(", ") || "none"}`);
  for (const x of r.rejected ?? []) lines.push(`refused ${x.siteId}: ${x.code}: ${x.message}`);
  for (const x of r.scores ?? []) lines.push(`scored ${x.siteId}: ${x.action}${x.reason ? `: ${x.reason}` : ""}`);
  if (r.baseModel) lines.push(`base model on the sites' held-out rows: pooled AUROC ${auroc(r.baseModel)}, sensitivity ${r.baseModel.sensitivity?.toFixed(3) ?? "—"}, specificity ${r.baseModel.specificity?.toFixed(3) ?? "—"} (${r.baseModel.n} rows)`);
  return lines;
}

/**
 * @example
 * await statusCommand(["--coordinator", url]); // CONSILIUM_ADMIN_TOKEN in the environment
 */
export async function statusCommand(argv: readonly string[], options: { readonly io?: CommandIo; readonly fetchFn?: typeof fetch } = {}): Promise<FederationStatus> {
  const io = options.io ?? processIo;
  const flags = parseFlags(statusSpec, argv, io.env, (line) => io.err(line));
  const status = await operatorClient(flags.coordinator, flags["admin-token"], options.fetchFn).status();
  if (flags.json) io.out(JSON.stringify(status, null, 2));
  else for (const line of statusLines(status)) io.out(line);
  return status;
}

/**
 * @example
 * await roundsCommand(["show", "3", "--coordinator", url]);
 */
export async function roundsCommand(argv: readonly string[], options: { readonly io?: CommandIo; readonly fetchFn?: typeof fetch } = {}): Promise<unknown> {
  const io = options.io ?? processIo;
  if (argv.includes("--help") || argv.includes("-h")) return parseFlags(roundsSpec, ["--help"], io.env);
  const [action, ...rest] = argv;
  if (action !== "list" && action !== "show") throw new UsageError(action === undefined || action.startsWith("-") ? "expected one of list, show" : `unknown action "${action}" (known: list, show)`);
  const wanted = action === "show" ? rest[0] : undefined;
  if (action === "show" && (wanted === undefined || !/^[1-9]\d{0,8}$/.test(wanted))) throw new UsageError("show: expected the round's number first, e.g. consilium rounds show 3");
  const flags = parseFlags(roundsSpec, action === "show" ? rest.slice(1) : rest, io.env, (line) => io.err(line));
  const { roundLog } = await operatorClient(flags.coordinator, flags["admin-token"], options.fetchFn).status();
  if (action === "list") {
    if (flags.json) io.out(JSON.stringify(roundLog, null, 2));
    else for (const line of roundLog.length === 0 ? ["no round yet"] : roundsLines(roundLog)) io.out(line);
    return roundLog;
  }
  const round = roundLog.find((r) => r.round === Number(wanted));
  if (round === undefined) throw new ConsiliumError("NO_ROUND", `no round ${wanted} in the active run (it has ${roundLog.length === 0 ? "none yet" : `rounds 1 to ${roundLog.at(-1)!.round}`})`, 404);
  if (flags.json) io.out(JSON.stringify(round, null, 2));
  else for (const line of roundLines(round)) io.out(line);
  return round;
}
