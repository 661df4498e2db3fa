/**
 * @module
 * The consortium's audit trail as a hash chain: every record carries its sequence number and the
 * SHA-256 of the previous record's stored bytes (the first, of 64 zeros), so that deleting,
 * changing, reordering or inserting a record breaks the chain at a sequence that can be named. A
 * record names who acted (a site, an operator, the coordinator itself: never patient data or a
 * token), when, what they did, to what, and the outcome. Signed checkpoints (sequence and head
 * hash, Ed25519) pin the chain's length, so that cutting its tail behind a checkpoint is caught too.
 *
 * The bytes that are hashed are the bytes that are stored (`encodeRecord`): verification reads
 * them back as they are, from the store or from an export (one record per line).
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { z } from "zod";
import { signBytes, verifyBytes } from "../secagg/identity.ts";

/** The `prev` of the first record. */
export const GENESIS = "0".repeat(64);

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const AuditActor = z.object({
  kind: z.enum(["site", "operator", "coordinator"]),
  /** A site id, an operator's name, or the coordinator's part (`api`, `aggregator`, `cron`). */
  id: z.string().min(1).max(128),
});
export type AuditActor = z.infer<typeof AuditActor>;

/** What happened, without its place in the chain: what a writer appends. */
export const AuditEvent = z.object({
  at: z.number().int().nonnegative(),
  actor: AuditActor,
  /** Dotted, stable: `site.enrol`, `update.submit`, `round.close`, `model.download`, `status.read`… */
  action: z.string().regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/).max(64),
  /** What it acted on: `round/3`, `site/st-mary`, `model/2`, `run/4`, `consortium`. */
  object: z.string().min(1).max(256),
  outcome: z.enum(["ok", "refused", "failed"]),
  /** A refusal's stable code. */
  code: z.string().max(64).optional(),
  /** Counts, ids and reasons only: never rows, statistics or tokens. */
  detail: z.record(z.string(), z.json()).optional(),
});
export type AuditEvent = z.infer<typeof AuditEvent>;

export const AuditRecord = AuditEvent.extend({
  seq: z.int().min(1),
  prev: Hex64,
});
export type AuditRecord = z.infer<typeof AuditRecord>;

/** A signed statement that the chain held `seq` records ending in the record whose hash is `hash`. */
export const AuditCheckpoint = z.object({
  seq: z.int().min(1),
  hash: Hex64,
  at: z.number().int().nonnegative(),
  /** The signing key's raw Ed25519 public key (hex), so that a verifier can tell which key it needs. */
  publicKey: z.string().regex(/^[0-9a-f]{64}$/),
  signature: z.string().regex(/^[0-9a-f]{128}$/),
});
export type AuditCheckpoint = z.infer<typeof AuditCheckpoint>;

/** `GET /v1/admin/audit`: records after a sequence with their stored text, the checkpoints, the key that signs them. */
export const AuditPageView = z.object({
  records: z.array(z.object({ seq: z.int().min(1), text: z.string() })),
  next: z.int().nullable(),
  checkpoints: z.array(AuditCheckpoint),
  publicKey: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
});
export type AuditPageView = z.infer<typeof AuditPageView>;

/** A record's stored bytes: its JSON, keys in a fixed order, no trailing newline. */
export function encodeRecord(r: AuditRecord): Uint8Array {
  const ordered: AuditRecord = {
    seq: r.seq,
    prev: r.prev,
    at: r.at,
    actor: { kind: r.actor.kind, id: r.actor.id },
    action: r.action,
    object: r.object,
    outcome: r.outcome,
    ...(r.code !== undefined && { code: r.code }),
    ...(r.detail !== undefined && { detail: r.detail }),
  };
  return new TextEncoder().encode(JSON.stringify(ordered));
}

export const recordHash = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

const checkpointMessage = (seq: number, hash: string, at: number) => new TextEncoder().encode(`consilium-audit-checkpoint\n${seq}\n${hash}\n${at}`);

const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");

/**
 * The checkpoint signing key from its 32-byte Ed25519 seed, as hex or base64 (an SST secret or
 * `CONSILIUM_AUDIT_KEY`); an error that says what was wrong, never the key.
 */
export function auditSigningKey(secret: string): { privateKey: KeyObject; publicKey: string } {
  const text = secret.trim();
  const seed = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, "hex") : Buffer.from(text, "base64");
  if (seed.length !== 32) throw new Error(`the audit signing key must be a 32-byte Ed25519 seed in hex (64 characters) or base64; it decodes to ${seed.length} bytes`);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: "der", type: "pkcs8" });
  // The raw public key is the last 32 bytes of its SPKI encoding.
  const publicKey = Buffer.from(createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(-32)).toString("hex");
  return { privateKey, publicKey };
}

export function signCheckpoint(key: { privateKey: KeyObject; publicKey: string }, seq: number, hash: string, at: number): AuditCheckpoint {
  return { seq, hash, at, publicKey: key.publicKey, signature: Buffer.from(signBytes(key.privateKey, checkpointMessage(seq, hash, at))).toString("hex") };
}

/** Whether the checkpoint's signature holds, and (given keys) it was made with one of them: a consortium that rotated its key lists each. */
export function checkpointValid(c: AuditCheckpoint, publicKey?: string | readonly string[]): boolean {
  const allowed = publicKey === undefined ? null : typeof publicKey === "string" ? [publicKey] : publicKey;
  if (allowed !== null && !allowed.includes(c.publicKey)) return false;
  return verifyBytes(Buffer.from(c.publicKey, "hex"), checkpointMessage(c.seq, c.hash, c.at), Buffer.from(c.signature, "hex"));
}

/** The sequence a record's bytes say, or null when they do not read. */
function seqOf(bytes: Uint8Array): number | null {
  try {
    const seq = (JSON.parse(new TextDecoder().decode(bytes)) as { seq?: unknown }).seq;
    return typeof seq === "number" ? seq : null;
  } catch {
    return null;
  }
}

/** The first thing wrong with a chain, by sequence. */
export interface ChainProblem {
  readonly seq: number;
  readonly problem: "missing" | "unreadable" | "out-of-order" | "hash-mismatch" | "truncated" | "bad-checkpoint";
  readonly message: string;
}

export interface ChainVerdict {
  readonly ok: boolean;
  readonly records: number;
  /** The hash of the last record read. */
  readonly head: string;
  /** The newest checkpoint that holds (its sequence), if any. */
  readonly checkpoint: number | null;
  readonly problem?: ChainProblem;
}

/**
 * Checks a chain read in order: `records[i]` is the stored bytes of sequence `i + 1` (null where no
 * record is stored at that sequence). Names the first bad sequence: a gap, bytes that do not parse,
 * a record that says another sequence (swapped or moved), a `prev` that is not the hash of the
 * record before (the record before was changed), a checkpoint whose signature or hash does not
 * hold, or a chain shorter than its newest checkpoint (the tail cut). A change to the last
 * record is caught once a checkpoint covers it.
 */
export function verifyChain(records: readonly (Uint8Array | null)[], checkpoints: readonly AuditCheckpoint[] = [], publicKey?: string | readonly string[], options: { readonly from?: number } = {}): ChainVerdict {
  const from = options.from ?? 1;
  let prev = GENESIS;
  const hashes: string[] = [];
  const fail = (problem: ChainProblem): ChainVerdict => ({ ok: false, records: hashes.length, head: prev, checkpoint: null, problem });
  for (const [i, bytes] of records.entries()) {
    const seq = from + i;
    if (bytes === null) return fail({ seq, problem: "missing", message: `record ${seq} is missing` });
    let record: AuditRecord;
    try {
      record = AuditRecord.parse(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)));
    } catch {
      return fail({ seq, problem: "unreadable", message: `record ${seq} is not an audit record` });
    }
    if (record.seq !== seq) {
      // Moved (the expected record is held elsewhere) or gone (it is nowhere).
      const held = records.slice(i + 1).some((b) => b !== null && seqOf(b) === seq);
      if (record.seq > seq && !held) return fail({ seq, problem: "missing", message: `record ${seq} is missing (the next held is record ${record.seq})` });
      return fail({ seq, problem: "out-of-order", message: `the record stored at ${seq} says it is record ${record.seq}` });
    }
    // A part of the chain (an export since a time) is anchored at its first record's link, which only the records before it could check.
    if (i === 0 && from > 1) prev = record.prev;
    if (record.prev !== prev) {
      if (seq === 1) return fail({ seq, problem: "hash-mismatch", message: "record 1 does not link to the start of the chain: changed after it was written" });
      // The record before was changed (or this one's link was): the earlier sequence is the one that no longer matches.
      return fail({ seq: seq - 1, problem: "hash-mismatch", message: `record ${seq - 1} does not hash to what record ${seq} says it was: changed after it was written` });
    }
    prev = recordHash(bytes);
    hashes.push(prev);
  }
  let held: number | null = null;
  const last = from - 1 + hashes.length;
  for (const c of [...checkpoints].sort((a, b) => a.seq - b.seq).filter((c) => c.seq >= from)) {
    if (!checkpointValid(c, publicKey)) return { ok: false, records: hashes.length, head: prev, checkpoint: held, problem: { seq: c.seq, problem: "bad-checkpoint", message: `the checkpoint at ${c.seq} is not signed by ${publicKey === undefined ? "its key" : "the consortium's key"}` } };
    if (c.seq > last) {
      return { ok: false, records: hashes.length, head: prev, checkpoint: held, problem: { seq: last + 1, problem: "truncated", message: `the chain ends at record ${last}, but a signed checkpoint says it held ${c.seq}: records from ${last + 1} were removed` } };
    }
    if (hashes[c.seq - from] !== c.hash) return { ok: false, records: hashes.length, head: prev, checkpoint: held, problem: { seq: c.seq, problem: "hash-mismatch", message: `record ${c.seq} does not hash to what the signed checkpoint at ${c.seq} says: changed after it was written` } };
    held = c.seq;
  }
  return { ok: true, records: hashes.length, head: prev, checkpoint: held };
}
