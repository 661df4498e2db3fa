/**
 * @module
 * `consilium operators add NAME --role R | list | revoke NAME`: the consortium's named operators,
 * managed by an owner (the bootstrap admin token, or an operator with the owner role) against a
 * coordinator, the credential from the environment. `add` prints the new operator's credential
 * once, as JSON, for the person it belongs to (`CONSILIUM_ADMIN_TOKEN` on their machine); the
 * coordinator keeps only its hash.
 */
import Table from "cli-table3";
import { z } from "zod";
import { operatorClient } from "./operator-client.ts";
import { OperatorName, type OperatorView } from "../../core/schemas/operators.ts";
import { boolFlag, choiceFlag, parseFlags, processIo, textFlag, UsageError, urlFlag, type CommandIo, type CommandSpec } from "./flags.ts";

const ACTIONS = ["add", "list", "revoke"] as const;
type Action = (typeof ACTIONS)[number];

export const OperatorsFlags = z.object({
  coordinator: urlFlag(),
  "admin-token": textFlag(),
  role: choiceFlag(["viewer", "operator", "owner"] as const).optional(),
  json: boolFlag(),
});
export type OperatorsFlags = z.infer<typeof OperatorsFlags>;

export const operatorsSpec: CommandSpec<typeof OperatorsFlags> = {
  name: "operators",
  summary:
    "The consortium's named operators, for an owner: `operators add NAME --role viewer|operator|owner` (prints the credential once, as JSON), `operators list`, `operators revoke NAME` (refused at once on every coordinator instance). Viewers read status, registry, runs and the audit trail; operators also enrol and revoke sites, start and abandon runs, promote and roll back models; owners also create the consortium and manage operators.",
  schema: OperatorsFlags,
  flags: {
    coordinator: { type: "string", value: "URL", help: "the coordinator's URL" },
    "admin-token": { type: "string", value: "T", env: "CONSILIUM_ADMIN_TOKEN", secret: true, help: "an owner's credential: the bootstrap admin token or an owner operator's" },
    role: { type: "string", value: "ROLE", help: "add: viewer, operator or owner" },
    json: { type: "boolean", help: "list and revoke: print the answer as JSON" },
  },
};

const when = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function listLines(operators: readonly OperatorView[]): string[] {
  if (operators.length === 0) return ["no named operator yet: the bootstrap admin token is the only owner (consilium operators add NAME --role viewer)"];
  const table = new Table({ head: ["name", "role", "added", "by", "revoked"], style: { head: [], border: [] } });
  for (const o of operators) table.push([o.name, o.role, when(o.createdAt), o.createdBy, o.revokedAt === null ? "" : when(o.revokedAt)]);
  return [table.toString()];
}

/**
 * @example
 * await operatorsCommand(["add", "dana", "--role", "viewer", "--coordinator", url]); // CONSILIUM_ADMIN_TOKEN: an owner's
 */
export async function operatorsCommand(argv: readonly string[], options: { readonly io?: CommandIo; readonly fetchFn?: typeof fetch } = {}): Promise<unknown> {
  const io = options.io ?? processIo;
  if (argv.includes("--help") || argv.includes("-h")) return parseFlags(operatorsSpec, ["--help"], io.env);
  const [action, ...rest] = argv;
  if (!ACTIONS.includes(action as Action)) throw new UsageError(action === undefined || action.startsWith("-") ? `expected one of ${ACTIONS.join(", ")}` : `unknown action "${action}" (known: ${ACTIONS.join(", ")})`);
  const named = action === "add" || action === "revoke";
  const name = named ? rest[0] : undefined;
  if (named && (name === undefined || name.startsWith("-"))) throw new UsageError(`${action}: expected the operator's name first, e.g. consilium operators ${action} dana`);
  if (name !== undefined) {
    const parsed = OperatorName.safeParse(name);
    if (!parsed.success) throw new UsageError(`"${name}": ${parsed.error.issues[0]?.message ?? "not an operator's name"}`);
  }
  const flags = parseFlags(operatorsSpec, named ? rest.slice(1) : rest, io.env, (line) => io.err(line));
  if (action === "add" && flags.role === undefined) throw new UsageError("--role: required: viewer, operator or owner");
  if (action !== "add" && flags.role !== undefined) throw new UsageError("--role goes with add");
  const admin = operatorClient(flags.coordinator, flags["admin-token"], options.fetchFn);
  if (action === "add") {
    const credential = await admin.addOperator(name!, flags.role!);
    // The credential is the answer: JSON on stdout, for the person it belongs to; shown this once.
    io.out(JSON.stringify(credential, null, 2));
    io.err(`operator ${credential.name} added as ${credential.role}: hand the token over privately; it is not shown again`);
    return credential;
  }
  if (action === "revoke") {
    const revoked = await admin.revokeOperator(name!);
    if (flags.json) io.out(JSON.stringify(revoked, null, 2));
    else io.out(`operator ${revoked.name} revoked at ${when(revoked.revokedAt)}: refused from the next request on`);
    return revoked;
  }
  const operators = await admin.operators();
  if (flags.json) io.out(JSON.stringify(operators, null, 2));
  else for (const line of listLines(operators)) io.out(line);
  return operators;
}
