/**
 * @module
 * `consilium runs list|start`: the consortium's training runs from the operator's seat, against a
 * coordinator with the admin token from the environment. `list` shows each run's triggers, where
 * it stands, its parent and the version it registered, and the triggers waiting; `start` asks for
 * a run, which starts at once unless one is training (then it waits for it); `abandon` stops a run
 * that cannot finish. Tables for people,
 * `--json` for scripts.
 */
import Table from "cli-table3";
import { z } from "zod";
import { operatorClient } from "./operator-client.ts";
import type { RunsView, TriggerOutcome, TriggerRecord } from "../../core/schemas/consortium.ts";
import { boolFlag, parseFlags, processIo, textFlag, UsageError, urlFlag, type CommandIo, type CommandSpec } from "./flags.ts";

const ACTIONS = ["list", "start", "abandon"] as const;
type Action = (typeof ACTIONS)[number];

export const RunsFlags = z.object({
  coordinator: urlFlag(),
  "admin-token": textFlag(),
  reason: textFlag().max(2000, "must be at most 2000 characters").optional(),
  json: boolFlag(),
});
export type RunsFlags = z.infer<typeof RunsFlags>;

export const runsSpec: CommandSpec<typeof RunsFlags> = {
  name: "runs",
  summary:
    "The consortium's training runs: `runs list` (each run's triggers, phase, parent version and registered version, and the triggers waiting for the next run), `runs start --reason R` (a run now, or after the one training), `runs abandon --reason R` (stop a run that cannot finish; it registers nothing).",
  schema: RunsFlags,
  flags: {
    coordinator: { type: "string", value: "URL", help: "the coordinator's URL" },
    "admin-token": { type: "string", value: "T", env: "CONSILIUM_ADMIN_TOKEN", secret: true, help: "administrator bearer token" },
    reason: { type: "string", value: "TEXT", help: "start and abandon: why, recorded on the run" },
    json: { type: "boolean", help: "print the answer as JSON" },
  },
};

const when = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const triggerText = (t: TriggerRecord) => `${t.kind} (${t.reason})`;

function listLines(view: RunsView): string[] {
  if (view.runs.length === 0) return ["no run yet: the consortium starts its first run when it is created (consilium coordinator --federation FILE)"];
  const table = new Table({ head: ["run", "id", "started", "triggers", "phase", "parent", "version", ""], style: { head: [], border: [] }, wordWrap: true, colWidths: [null, null, null, 48, null, null, null, null] });
  for (const r of view.runs) {
    const phase = r.abandoned ? "abandoned" : r.phase === null ? "—" : r.phase === "training" ? `training, round ${r.round}` : r.phase;
    table.push([r.seq, r.id, when(r.startedAt), r.triggers.map(triggerText).join("; "), phase, r.parent === null ? "—" : r.warmStart !== null && r.warmStart.from === null ? `${r.parent} (fresh weights)` : r.parent, r.version ?? "—", r.active ? "active" : ""]);
  }
  const lines = [table.toString()];
  lines.push(view.pending.length === 0 ? "no trigger waiting" : `waiting for the next run: ${view.pending.map(triggerText).join("; ")}`);
  return lines;
}

function startLines(outcome: TriggerOutcome): string[] {
  if (outcome.started) return [`run ${outcome.started.seq} (${outcome.started.id}) started: ${outcome.started.triggers.map(triggerText).join("; ")}`];
  return [`recorded; run ${outcome.waitingFor} is training, and the next run starts when it is done and registered`];
}

/**
 * @example
 * await runsCommand(["start", "--coordinator", url, "--reason", "new lab reference ranges"]);
 */
export async function runsCommand(argv: readonly string[], options: { readonly io?: CommandIo; readonly fetchFn?: typeof fetch } = {}): Promise<unknown> {
  const io = options.io ?? processIo;
  if (argv.includes("--help") || argv.includes("-h")) return parseFlags(runsSpec, ["--help"], io.env);
  const [action, ...rest] = argv;
  if (!ACTIONS.includes(action as Action)) throw new UsageError(action === undefined || action.startsWith("-") ? `expected one of ${ACTIONS.join(", ")}` : `unknown action "${action}" (known: ${ACTIONS.join(", ")})`);
  const flags = parseFlags(runsSpec, rest, io.env, (line) => io.err(line));
  if (action !== "list" && flags.reason === undefined) throw new UsageError("--reason: required: say why, for the run's record");
  if (action === "list" && flags.reason !== undefined) throw new UsageError("--reason goes with start and abandon");
  const admin = operatorClient(flags.coordinator, flags["admin-token"], options.fetchFn);
  const print = (value: unknown, lines: () => string[]) => (flags.json ? io.out(JSON.stringify(value, null, 2)) : lines().forEach((l) => io.out(l)));
  if (action === "list") {
    const view = await admin.runs();
    print(view, () => listLines(view));
    return view;
  }
  if (action === "abandon") {
    const stopped = await admin.abandonRun(flags.reason ?? "");
    print(stopped, () => [`run ${stopped.run} abandoned: ${stopped.abandoned.reason}`]);
    return stopped;
  }
  const outcome = await admin.startRun(flags.reason ?? "");
  print(outcome, () => startLines(outcome));
  return outcome;
}
