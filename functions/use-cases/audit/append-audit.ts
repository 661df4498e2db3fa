/**
 * @module
 * Appending to the consortium's audit trail (`core/audit/trail.ts`) from any coordinator instance.
 * Record `n` is written write-once at `audit/trail/{n}` with the hash of record `n − 1`; a writer
 * that loses the race for a sequence reads the winner, links to it and tries the next one, so two
 * writers can never fork the chain. Where the chain ends is a hint (`audit/trail-head.json`,
 * rewritten after each append): the link is always the hash of the record as stored, a stale hint
 * costs a few reads forward, a lost or wrong one a search in O(log n) reads (`findEnd`). Every
 * `CHECKPOINT_EVERY` records, and when the newest checkpoint is older than `CHECKPOINT_MS`, the
 * writer of a record signs a checkpoint of it with the consortium's audit key (when one is set).
 *
 * An audit record that cannot be written fails the action that wanted it (its caller decides);
 * `audited` wraps an action so that its record names the outcome.
 */
import { z } from "zod";
import { AuditCheckpoint, AuditEvent, encodeRecord, GENESIS, recordHash, signCheckpoint, type AuditRecord } from "../../../core/audit/trail.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { readJson, writeJson } from "../../repo.ts";
import { countFailure } from "../count-failure.ts";
import { consortiumDeps } from "../runs/run-scope.ts";

/** A checkpoint at least every this many records… */
export const CHECKPOINT_EVERY = 100;
/** …and at the first record written this long after the newest checkpoint. */
export const CHECKPOINT_MS = 10 * 60_000;
/** Sequences a writer steps over one by one (concurrent writers) before it searches for the end (a hint far behind). */
const LINEAR_STEPS = 8;
/** A writer gives up after this many sequences taken by others in a row (a store that never says "absent"). */
const MAX_RACES = 10_000;

const Head = z.object({ seq: z.int().min(0), hash: z.string().regex(/^[0-9a-f]{64}$/), checkpointAt: z.number().optional(), checkpointSeq: z.int().optional() });
type Head = z.infer<typeof Head>;


async function readHead(deps: CoordinatorDeps): Promise<Head> {
  try {
    return (await readJson(deps.store, keys.auditHead, Head)) ?? { seq: 0, hash: GENESIS };
  } catch {
    // A hint that does not read is no hint: the end is searched for.
    return { seq: 0, hash: GENESIS };
  }
}

/**
 * The chain's last record as stored (its sequence and the hash of its bytes), searched from the
 * hint: the hint's record is read, never trusted, and when it is missing or the hint is lost the
 * end is found by probing 1, 2, 4… past the last record known to exist and halving back, in
 * O(log n) reads. A record deleted from the middle (tampering, which verification names) can
 * mislead the search into the gap; the chain then breaks there too.
 */
export async function findEnd(deps: CoordinatorDeps, hint: { readonly seq: number }): Promise<{ seq: number; hash: string }> {
  const root = consortiumDeps(deps);
  const exists = async (seq: number) => seq === 0 || (await root.store.head(keys.auditRecord(seq))) !== null;
  let low = hint.seq > 0 && (await exists(hint.seq)) ? hint.seq : 0;
  // Exponential probe forward from the last sequence known to exist…
  let step = 1;
  let high = low + step;
  while (await exists(high)) {
    low = high;
    // 2^48 records is past any consortium's life: a store that never says "absent" is an error, not a loop.
    if (step >= 2 ** 48) throw new Error("the audit trail's end was not found: the store answers every sequence as present");
    step *= 2;
    high = low + step;
  }
  // …then halve back: `low` exists, `high` does not.
  while (high - low > 1) {
    const mid = low + Math.floor((high - low) / 2);
    if (await exists(mid)) low = mid;
    else high = mid;
  }
  if (low === 0) return { seq: 0, hash: GENESIS };
  const bytes = await root.store.get(keys.auditRecord(low));
  if (bytes === null) throw new Error(`audit record ${low} vanished while the trail's end was searched`);
  return { seq: low, hash: recordHash(bytes) };
}

/**
 * Appends one record and answers it with its hash. The event is checked against the schema first:
 * a record that could not be read back is never written. The link is the hash of the record
 * stored before it, read from the store (the hint only says where to look).
 */
export async function appendAudit(deps: CoordinatorDeps, event: AuditEvent): Promise<{ record: AuditRecord; hash: string }> {
  const root = consortiumDeps(deps);
  const checked = AuditEvent.parse(event);
  const head = await readHead(root);
  // The common case, a fresh hint: its record is read for the link, and the next sequence is free.
  const hinted = head.seq > 0 ? await root.store.get(keys.auditRecord(head.seq)) : null;
  const end = head.seq === 0 || hinted === null ? await findEnd(root, { seq: 0 }) : { seq: head.seq, hash: recordHash(hinted) };
  let seq = end.seq + 1;
  let prev = end.hash;
  for (let races = 0; races < MAX_RACES; races++) {
    const record: AuditRecord = { ...checked, seq, prev };
    const bytes = encodeRecord(record);
    if (await root.store.put(keys.auditRecord(seq), bytes, { ifAbsent: true, contentType: "application/json" })) {
      const hash = recordHash(bytes);
      // The record stands; a checkpoint or hint that cannot be written is the cron's to catch up.
      await checkpointIfDue(root, head, seq, hash).catch((err: unknown) => root.logger.error("audit checkpoint or head hint not written", { seq, err: err instanceof Error ? err.message : String(err) }));
      return { record, hash };
    }
    // Taken by a concurrent writer (the usual case: the next is free) or the hint was behind: after a few steps the end is searched for.
    if (races === LINEAR_STEPS) {
      const found = await findEnd(root, { seq });
      seq = found.seq + 1;
      prev = found.hash;
      continue;
    }
    const there = await root.store.get(keys.auditRecord(seq));
    if (there === null) continue;
    prev = recordHash(there);
    seq++;
  }
  throw new Error(`the audit trail could not be appended after ${MAX_RACES} sequences taken by concurrent writers`);
}

async function checkpointIfDue(root: CoordinatorDeps, head: Head, seq: number, hash: string): Promise<void> {
  const now = root.clock.now();
  const key = root.auditKey;
  const lastSeq = head.checkpointSeq ?? 0;
  const due = key !== undefined && (seq - lastSeq >= CHECKPOINT_EVERY || head.checkpointAt === undefined || now - head.checkpointAt >= CHECKPOINT_MS);
  if (due) {
    const checkpoint = signCheckpoint(key, seq, hash, now);
    await writeJson(root.store, keys.auditCheckpoint(seq), checkpoint satisfies AuditCheckpoint, { ifAbsent: true });
  }
  // The hint moves forward only as far as this writer knows; a concurrent writer may set it back a little.
  await writeJson(root.store, keys.auditHead, { seq, hash, checkpointAt: due ? now : head.checkpointAt, checkpointSeq: due ? seq : head.checkpointSeq } satisfies Head);
}

/**
 * Writes a checkpoint of the chain's newest record, unless it has one, or (with `olderThanMs`) the
 * newest checkpoint is younger than that. The cron calls it, so that a quiet consortium's tail is
 * pinned too, within CHECKPOINT_MS of its last record.
 */
export async function checkpointNow(deps: CoordinatorDeps, options: { readonly olderThanMs?: number } = {}): Promise<AuditCheckpoint | null> {
  const root = consortiumDeps(deps);
  const key = root.auditKey;
  if (key === undefined) return null;
  const hint = await readHead(root);
  if (options.olderThanMs !== undefined && hint.checkpointAt !== undefined && root.clock.now() - hint.checkpointAt < options.olderThanMs) return null;
  // What is signed is the stored record's hash, never the hint's.
  const { seq, hash } = await findEnd(root, hint);
  if (seq === 0 || hint.checkpointSeq === seq) return null;
  const checkpoint = signCheckpoint(key, seq, hash, root.clock.now());
  await writeJson(root.store, keys.auditCheckpoint(seq), checkpoint, { ifAbsent: true });
  await writeJson(root.store, keys.auditHead, { seq, hash, checkpointAt: checkpoint.at, checkpointSeq: seq } satisfies Head);
  return checkpoint;
}

/** What every function logs when an audit record cannot be written: infra/alarms.ts counts these lines and alarms on them. */
export const AUDIT_NOT_WRITTEN = "audit record not written";

/**
 * Records an action the coordinator took on its own (a round opened or closed, a run started, a
 * version registered, the gate's promotion). A record that cannot be written does not undo the action: it is logged and counted
 * (`AUDIT_WRITE_FAILED`), as for requests.
 */
export async function auditCoordinator(deps: CoordinatorDeps, action: string, object: string, detail: Record<string, z.core.util.JSONType> = {}): Promise<void> {
  try {
    await appendAudit(deps, { at: deps.clock.now(), actor: { kind: "coordinator", id: "coordinator" }, action, object, outcome: "ok", detail: { ...(deps.run && { run: deps.run.seq }), ...detail } });
  } catch (err) {
    deps.logger.error(AUDIT_NOT_WRITTEN, { action, object, err: err instanceof Error ? err.message : String(err) });
    await countFailure(consortiumDeps(deps), "AUDIT_WRITE_FAILED");
  }
}
