/**
 * @module
 * `consilium audit verify|export`: the consortium's audit trail (`core/audit/trail.ts`) from a
 * compliance officer's seat. `verify` walks the chain from its first record, live against a
 * coordinator (admin token from the environment) or offline over a JSON Lines export, and names
 * the first bad sequence: a record deleted, changed, moved, or the tail cut behind a signed
 * checkpoint. `export` writes the records since a time as JSON Lines (each record's stored text
 * exactly, then the checkpoints: what `verify --file` checks) or CSV (for people and spreadsheets).
 */
import { readFile, writeFile } from "node:fs/promises";
import { z } from "zod";
import type { AdminClient } from "../../client/admin-client.ts";
import { operatorClient } from "./operator-client.ts";
import { AuditCheckpoint, AuditRecord, recordHash, verifyChain, type ChainVerdict } from "../../core/audit/trail.ts";
import { CHECKPOINT_EVERY } from "../../functions/use-cases/audit/append-audit.ts";
import { boolFlag, choiceFlag, parseFlags, processIo, textFlag, UsageError, urlFlag, type CommandIo, type CommandSpec } from "./flags.ts";

const ACTIONS = ["verify", "export"] as const;
type Action = (typeof ACTIONS)[number];

export const AuditFlags = z.object({
  coordinator: urlFlag().optional(),
  "admin-token": textFlag().optional(),
  file: textFlag().optional(),
  "public-key": z
    .string()
    .regex(/^[0-9a-f]{64}(,[0-9a-f]{64})*$/, "expected the checkpoint key's 64 hex characters (several, comma-separated, for a key that was rotated)")
    .transform((t) => t.split(","))
    .optional(),
  since: textFlag().optional(),
  format: choiceFlag(["jsonl", "csv"] as const).default("jsonl"),
  out: textFlag().optional(),
  json: boolFlag(),
});
export type AuditFlags = z.infer<typeof AuditFlags>;

export const auditSpec: CommandSpec<typeof AuditFlags> = {
  name: "audit",
  summary:
    "The consortium's audit trail: `audit verify` (the hash chain from its first record and the signed checkpoints, live with --coordinator or offline with --file EXPORT; names the first bad sequence) and `audit export [--since T] [--format jsonl|csv] [--out FILE]`.",
  schema: AuditFlags,
  flags: {
    coordinator: { type: "string", value: "URL", help: "the coordinator's URL" },
    "admin-token": { type: "string", value: "T", env: "CONSILIUM_ADMIN_TOKEN", secret: true, help: "administrator bearer token" },
    file: { type: "string", value: "EXPORT", help: "verify: a JSON Lines export (consilium audit export) instead of a coordinator" },
    "public-key": { type: "string", value: "HEX[,HEX]", help: "verify: the consortium's checkpoint keys (64 hex each; every key it has used); a checkpoint signed by another fails, and the trail must hold one" },
    since: { type: "string", value: "T", help: "export: records from this time on (ISO 8601, e.g. 2027-01-01 or 2027-01-01T12:00:00Z)" },
    format: { type: "string", value: "FORMAT", help: "export: jsonl (the records as stored, then the checkpoints; verifiable; default) or csv" },
    out: { type: "string", value: "FILE", help: "export: write to FILE instead of standard output" },
    json: { type: "boolean", help: "verify: print the verdict as JSON" },
  },
};

/** The trail as read: each record's text by sequence, and the checkpoints. */
interface Trail {
  readonly records: { readonly seq: number; readonly text: string }[];
  readonly checkpoints: AuditCheckpoint[];
  readonly publicKey: string | null;
  /** Where verification starts: 1 for the coordinator's trail and a whole export; a partial export's first record. */
  readonly from: number;
  readonly source: "coordinator" | "export";
}

/** An export's first line: where it starts (1 for the whole trail), and when it was made. */
const ExportHeader = z.object({ export: z.object({ from: z.int().min(1), exportedAt: z.string() }) });

async function fetchTrail(admin: AdminClient): Promise<Trail> {
  const records: Trail["records"] = [];
  const checkpoints: AuditCheckpoint[] = [];
  let after = 0;
  let page;
  for (;;) {
    page = await admin.audit(after);
    records.push(...page.records);
    checkpoints.push(...page.checkpoints);
    if (page.next === null) break;
    after = page.next;
  }
  return { records, checkpoints, publicKey: page.publicKey, from: 1, source: "coordinator" };
}

/**
 * A JSON Lines export read back: its header (where it starts; none: the whole trail, from 1), then
 * record lines as they are and in their order (the first at `from`, each next line the next
 * sequence), and checkpoint lines by their `checkpoint` key.
 */
async function readExport(file: string): Promise<Trail> {
  const text = await readFile(file, "utf8").catch((err: unknown) => {
    throw new UsageError(`--file: cannot read ${file}: ${(err as Error).message}`);
  });
  const records: Trail["records"] = [];
  const checkpoints: AuditCheckpoint[] = [];
  let from = 1;
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new UsageError(`--file: ${file} line ${i + 1} is not JSON`);
    }
    const header = ExportHeader.safeParse(value);
    if (header.success) {
      if (records.length > 0 || checkpoints.length > 0) throw new UsageError(`--file: ${file} line ${i + 1}: the export's header must come first`);
      from = header.data.export.from;
      continue;
    }
    const checkpoint = z.object({ checkpoint: AuditCheckpoint }).safeParse(value);
    if (checkpoint.success) checkpoints.push(checkpoint.data.checkpoint);
    else {
      if (!z.object({ seq: z.int().min(1) }).safeParse(value).success) throw new UsageError(`--file: ${file} line ${i + 1} is neither an audit record nor a checkpoint`);
      records.push({ seq: from + records.length, text: line });
    }
  }
  return { records, checkpoints, publicKey: null, from, source: "export" };
}

/** The most records in a row without a checkpoint that a trail held to a key may carry: twice the coordinator's cadence, for checkpoints a failed write skipped. */
const MAX_UNSIGNED = 2 * CHECKPOINT_EVERY;

/** The first run of more than MAX_UNSIGNED records (from `from` to `last`) that no checkpoint covers, or null. */
export function unsignedStretch(from: number, last: number, checkpoints: readonly AuditCheckpoint[]): { from: number; to: number } | null {
  let covered = from - 1;
  for (const seq of checkpoints.map((c) => c.seq).filter((s) => s >= from && s <= last).sort((a, b) => a - b)) {
    if (seq - covered > MAX_UNSIGNED) return { from: covered + 1, to: seq - 1 };
    covered = seq;
  }
  return last - covered > MAX_UNSIGNED ? { from: covered + 1, to: last } : null;
}

/** The trail's verdict from its `from`: records placed by sequence (a gap is a gap). */
export function verifyTrail(trail: Trail, publicKey?: readonly string[]): ChainVerdict & { readonly from: number } {
  const encoder = new TextEncoder();
  let last = trail.from - 1;
  for (const r of trail.records) if (r.seq > last) last = r.seq;
  const placed: (Uint8Array | null)[] = Array.from({ length: last - trail.from + 1 }, () => null);
  for (const r of trail.records) if (r.seq >= trail.from) placed[r.seq - trail.from] = encoder.encode(r.text);
  return { ...verifyChain(placed, trail.checkpoints, publicKey, { from: trail.from }), from: trail.from };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** One CSV field, quoted when it must be (RFC 4180): a few lines, where a CSV library would be a dependency for one writer. */
const csvField = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

function exportLines(trail: Trail, since: number, format: "jsonl" | "csv", exportedAt: number): string[] {
  const parse = (text: string) => {
    try {
      return AuditRecord.safeParse(JSON.parse(text));
    } catch {
      return AuditRecord.safeParse(null);
    }
  };
  // From the first record at or after `since`, every record after it: times are not strictly in sequence order (writers race), the chain is.
  const first = trail.records.findIndex((r) => {
    const parsed = parse(r.text);
    return parsed.success && parsed.data.at >= since;
  });
  const chosen = (first < 0 ? [] : trail.records.slice(first)).map((r) => ({ ...r, record: parse(r.text) }));
  if (format === "jsonl") {
    // Nothing since T: an empty export that starts after the last record, which verifies as empty.
    let last = 0;
    for (const r of trail.records) if (r.seq > last) last = r.seq;
    const from = since === 0 ? 1 : (chosen[0]?.seq ?? last + 1);
    const header = JSON.stringify({ export: { from, exportedAt: iso(exportedAt) } });
    return [header, ...chosen.map((r) => r.text), ...trail.checkpoints.filter((c) => c.seq >= from).map((c) => JSON.stringify({ checkpoint: c }))];
  }
  const lines = ["seq,at,actor_kind,actor_id,action,object,outcome,code,detail,prev,hash"];
  for (const r of chosen) {
    if (!r.record.success) {
      // A record that does not read is listed as such: the verifier names it.
      lines.push(`${r.seq},,,,,,unreadable,,,,`);
      continue;
    }
    const x = r.record.data;
    const cells = [String(x.seq), iso(x.at), x.actor.kind, x.actor.id, x.action, x.object, x.outcome, x.code ?? "", x.detail === undefined ? "" : JSON.stringify(x.detail), x.prev, recordHash(new TextEncoder().encode(r.text))];
    lines.push(cells.map(csvField).join(","));
  }
  return lines;
}

/**
 * @example
 * await auditCommand(["verify", "--coordinator", url]); // CONSILIUM_ADMIN_TOKEN in the environment
 */
export async function auditCommand(argv: readonly string[], options: { readonly io?: CommandIo; readonly fetchFn?: typeof fetch } = {}): Promise<ChainVerdict | string[]> {
  const io = options.io ?? processIo;
  if (argv.includes("--help") || argv.includes("-h")) return parseFlags(auditSpec, ["--help"], io.env) as never;
  const [action, ...rest] = argv;
  if (!ACTIONS.includes(action as Action)) throw new UsageError(action === undefined || action.startsWith("-") ? `expected one of ${ACTIONS.join(", ")}` : `unknown action "${action}" (known: ${ACTIONS.join(", ")})`);
  const flags = parseFlags(auditSpec, rest, io.env, (line) => io.err(line));
  const live = () => {
    if (flags.coordinator === undefined) throw new UsageError("--coordinator URL: required (or --file EXPORT to verify an export)");
    if (flags["admin-token"] === undefined) throw new UsageError("--admin-token: required (set CONSILIUM_ADMIN_TOKEN)");
    return fetchTrail(operatorClient(flags.coordinator, flags["admin-token"], options.fetchFn));
  };
  if (action === "verify") {
    if (flags.since !== undefined || flags.out !== undefined || rest.includes("--format")) throw new UsageError("--since, --format and --out go with export");
    if ((flags.file === undefined) === (flags.coordinator === undefined)) throw new UsageError("verify: give --coordinator URL or --file EXPORT, one of them");
    const trail = flags.file !== undefined ? await readExport(flags.file) : await live();
    const keys = flags["public-key"];
    let verdict: ChainVerdict & { readonly from: number } = verifyTrail(trail, keys ?? (trail.publicKey === null ? undefined : [trail.publicKey]));
    // Held to a key, the trail must carry the checkpoints the coordinator signs (one every CHECKPOINT_EVERY records): an export stripped of them proves nothing.
    if (verdict.ok && keys !== undefined && verdict.records > 0) {
      const unsigned = unsignedStretch(trail.from, trail.from - 1 + verdict.records, trail.checkpoints);
      if (verdict.checkpoint === null) verdict = { ...verdict, ok: false, problem: { seq: trail.from, problem: "bad-checkpoint", message: "no checkpoint signed by the consortium's key: the records cannot be told from rewritten ones" } };
      else if (unsigned !== null) verdict = { ...verdict, ok: false, problem: { seq: unsigned.from, problem: "bad-checkpoint", message: `records ${unsigned.from} to ${unsigned.to} carry no signed checkpoint, more than ${MAX_UNSIGNED} in a row where the coordinator signs one every ${CHECKPOINT_EVERY}: checkpoints were removed` } };
    }
    if (!verdict.ok && verdict.problem?.problem === "bad-checkpoint" && flags["public-key"] === undefined && trail.source === "coordinator") {
      verdict = { ...verdict, problem: { ...verdict.problem, message: `${verdict.problem.message} (the coordinator's current key; a key the consortium used before? give every one: --public-key OLD,NEW)` } };
    }
    if (flags.json) io.out(JSON.stringify(verdict, null, 2));
    else if (verdict.ok) {
      const partial = verdict.from > 1 ? ` (from record ${verdict.from}, anchored at its link to ${verdict.from - 1}: the export proves nothing before it)` : "";
      const signer = verdict.checkpoint === null ? "" : (trail.checkpoints.find((c) => c.seq === verdict.checkpoint)?.publicKey ?? "");
      const last = verdict.from - 1 + verdict.records;
      const unsigned = verdict.checkpoint === null ? "no signed checkpoint" : `signed checkpoint at ${verdict.checkpoint} (key ${signer.slice(0, 16)}…${keys === undefined && trail.source === "export" ? ", not checked against the consortium's: give --public-key" : ""})${last > verdict.checkpoint ? `; records ${verdict.checkpoint + 1} to ${last} not yet under a checkpoint` : ""}`;
      io.out(`audit trail intact: ${verdict.records} records${partial}, head ${verdict.head.slice(0, 16)}…; ${unsigned}`);
    } else io.out(`audit trail broken at record ${verdict.problem!.seq}: ${verdict.problem!.message}`);
    if (!verdict.ok) throw new AuditBroken(verdict);
    return verdict;
  }
  if (flags.file !== undefined || flags["public-key"] !== undefined || flags.json) throw new UsageError("--file, --public-key and --json go with verify");
  let since = 0;
  if (flags.since !== undefined) {
    since = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(flags.since) ? Date.parse(flags.since) : Number.NaN;
    if (Number.isNaN(since)) throw new UsageError(`--since: "${flags.since}" is not a time (ISO 8601, e.g. 2027-01-01 or 2027-01-01T12:00:00Z)`);
  }
  const lines = exportLines(await live(), since, flags.format, Date.now());
  if (flags.out !== undefined) await writeFile(flags.out, lines.length === 0 ? "" : `${lines.join("\n")}\n`);
  else for (const l of lines) io.out(l);
  return lines;
}

/** A chain that does not verify: the command fails (exit status 1) after saying where. */
export class AuditBroken extends Error {
  readonly code = "AUDIT_CHAIN_BROKEN";
  constructor(readonly verdict: ChainVerdict) {
    super(`audit trail broken at record ${verdict.problem?.seq}: ${verdict.problem?.message}`);
  }
}
