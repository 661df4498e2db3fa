/**
 * @module
 * `consilium models list|show|promote|rollback`: the consortium's model registry from the
 * operator's seat, against a coordinator with the admin token from the environment. Tables for
 * people, `--json` for scripts; every move of the champion carries its reason.
 */
import { describeRule, type OperatingPoint } from "../../core/metrics/operating-point.ts";
import Table from "cli-table3";
import { z } from "zod";
import { operatorClient } from "./operator-client.ts";
import type { ChampionEntry, ModelView, ModelsView } from "../../core/registry/index.ts";
import { boolFlag, intFlag, parseFlags, processIo, textFlag, UsageError, urlFlag, type CommandIo, type CommandSpec } from "./flags.ts";

const ACTIONS = ["list", "show", "promote", "rollback"] as const;
type Action = (typeof ACTIONS)[number];

export const ModelsFlags = z.object({
  coordinator: urlFlag(),
  "admin-token": textFlag(),
  reason: textFlag().max(2000, "must be at most 2000 characters").optional(),
  to: intFlag(1, 999_999).optional(),
  "expect-champion": z
    .string({ error: (i) => (i.input === undefined ? "required" : "expected a version number or none") })
    .regex(/^(none|[1-9]\d{0,5})$/, "expected a version number or none")
    .transform((v) => (v === "none" ? null : Number(v)))
    .optional(),
  json: boolFlag(),
});
export type ModelsFlags = z.infer<typeof ModelsFlags>;

export const modelsSpec: CommandSpec<typeof ModelsFlags> = {
  name: "models",
  summary:
    "The model registry: `models list` (every version, the champion and its history), `models show V` (a version's card and the gate's decision), `models promote V --reason R`, `models rollback --to V --reason R` (back to a former champion). A move names the reason, and with --expect-champion is refused if the champion changed meanwhile.",
  schema: ModelsFlags,
  flags: {
    coordinator: { type: "string", value: "URL", help: "the coordinator's URL" },
    "admin-token": { type: "string", value: "T", env: "CONSILIUM_ADMIN_TOKEN", secret: true, help: "administrator bearer token" },
    reason: { type: "string", value: "TEXT", help: "promote and rollback: why, for the audit trail" },
    to: { type: "string", value: "V", help: "rollback: the former champion to go back to" },
    "expect-champion": { type: "string", value: "V|none", help: "promote and rollback: refuse (409 CHAMPION_CHANGED) unless the champion is still this version" },
    json: { type: "boolean", help: "print the answer as JSON" },
  },
};

const when = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const fmt = (x: number | null) => (x === null ? "—" : x.toFixed(3));

function listLines(view: ModelsView): string[] {
  if (view.versions.length === 0) return ["no registered version yet: a run registers its model when it finishes"];
  const table = new Table({ head: ["version", "run", "parent", "registered", "strategy", "sites", "pooled AUROC", "champion", "gate"], style: { head: [], border: [] } });
  for (const v of view.versions) {
    const gate = v.decision === null ? "—" : v.decision.promoted ? "promoted" : v.decision.judged ? "rejected" : "not judged";
    table.push([v.version, v.run, v.parent ?? "—", when(v.createdAt), v.strategy, v.sites, fmt(v.auroc), v.champion ? "yes" : "", gate]);
  }
  const lines = [table.toString()];
  if (view.champion) lines.push(`champion: version ${view.champion.version} since ${when(view.champion.at)} (${view.champion.action} by ${view.champion.by}: ${view.champion.reason})`);
  return lines;
}

/** Where the model is used: the threshold, how it was chosen, and its pooled rates there. */
function operatingPointLine(op: OperatingPoint): string {
  const p = op.pooled;
  return `  operating point ${op.threshold.toFixed(3)} (${describeRule(op.rule)} on ${op.chosenOn.rows} training rows of ${op.chosenOn.sites} sites): sensitivity ${fmt(p.sensitivity)}, specificity ${fmt(p.specificity)}, PPV ${fmt(p.ppv)}, NPV ${fmt(p.npv)} on ${p.n} held-out rows`;
}

function showLines(view: ModelView): string[] {
  const c = view.card;
  const p = c.evaluation.pooled;
  const span = p.aurocInterval ? ` (95 % ${p.aurocInterval[0].toFixed(2)}–${p.aurocInterval[1].toFixed(2)})` : "";
  return [
    `version ${c.version}${view.champion ? " (champion)" : view.formerChampion ? " (a former champion)" : ""}: run ${c.run}, parent ${c.parent ?? "none"}, registered ${when(c.createdAt)}`,
    `  config sha256 ${c.configSha256}; ${c.strategy}, codec ${c.codec}, model ${c.model.kind === "mlp" ? `mlp:${c.model.hidden.join(",")}` : c.model.kind}; ${c.features.length} inputs`,
    `  pooled over ${c.sites.length} sites (${p.n} rows): AUROC ${fmt(p.auroc)}${span}, sensitivity ${fmt(p.sensitivity)}, specificity ${fmt(p.specificity)} at ${p.threshold}, Brier ${fmt(p.brier)}, ECE ${fmt(p.calibration.ece)}`,
    ...(c.operatingPoint ? [operatingPointLine(c.operatingPoint)] : []),
    ...c.sites.map((s) => `  ${s.siteId}: ${s.rows} rows, ${s.positives} positive; statistics sha256 ${s.statsSha256.slice(0, 16)}…`),
    ...(c.privacy ?? []).map((s) => `  ${s.siteId}: ε ${s.epsilon.toFixed(3)} of ${s.budget} at δ ${s.delta}`),
    `  gate: ${view.decision === null ? "no decision recorded" : view.decision.reason}`,
  ];
}

const moved = (e: ChampionEntry) => `champion: version ${e.version} (was ${e.previous ?? "none"}), ${e.action} by ${e.by}, entry ${e.seq}: ${e.reason}`;

/** The action and, for show and promote, the version: the words before the flags. */
function words(argv: readonly string[]): { action: Action; version?: number; rest: readonly string[] } {
  const [action, ...rest] = argv;
  if (!ACTIONS.includes(action as Action)) throw new UsageError(action === undefined || action.startsWith("-") ? `expected one of ${ACTIONS.join(", ")}` : `unknown action "${action}" (known: ${ACTIONS.join(", ")})`);
  if (action !== "show" && action !== "promote") return { action: action as Action, rest };
  const [v, ...flags] = rest;
  if (v === undefined || !/^\d{1,6}$/.test(v) || Number(v) < 1) throw new UsageError(`${action} needs a version number, e.g. consilium models ${action} 3`);
  return { action, version: Number(v), rest: flags };
}

/**
 * @example
 * await modelsCommand(["promote", "3", "--coordinator", url, "--reason", "better on the spring data"]);
 */
export async function modelsCommand(argv: readonly string[], options: { readonly io?: CommandIo; readonly fetchFn?: typeof fetch } = {}): Promise<unknown> {
  const io = options.io ?? processIo;
  if (argv.includes("--help") || argv.includes("-h")) return parseFlags(modelsSpec, ["--help"], io.env);
  const { action, version, rest } = words(argv);
  const flags = parseFlags(modelsSpec, rest, io.env, (line) => io.err(line));
  const needsReason = action === "promote" || action === "rollback";
  if (needsReason && flags.reason === undefined) throw new UsageError("--reason: required: say why, for the audit trail");
  if (!needsReason && (flags.reason !== undefined || flags["expect-champion"] !== undefined)) throw new UsageError(`--reason and --expect-champion go with promote and rollback`);
  if ((action === "rollback") !== (flags.to !== undefined)) throw new UsageError(action === "rollback" ? "--to: required: the former champion to go back to" : "--to goes with rollback");
  const admin = operatorClient(flags.coordinator, flags["admin-token"], options.fetchFn);
  const print = (value: unknown, lines: () => string[]) => (flags.json ? io.out(JSON.stringify(value, null, 2)) : lines().forEach((l) => io.out(l)));
  const reason = flags.reason ?? "";
  const expected = flags["expect-champion"];
  switch (action) {
    case "list": {
      const view = await admin.models();
      print(view, () => listLines(view));
      return view;
    }
    case "show": {
      const view = await admin.model(version ?? 0);
      print(view, () => showLines(view));
      return view;
    }
    case "promote": {
      const entry = await admin.promote(version ?? 0, reason, expected);
      print(entry, () => [moved(entry)]);
      return entry;
    }
    case "rollback": {
      const entry = await admin.rollback(flags.to ?? 0, reason, expected);
      print(entry, () => [moved(entry)]);
      return entry;
    }
  }
}
