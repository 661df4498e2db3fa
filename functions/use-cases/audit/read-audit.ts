/**
 * @module
 * Reading the audit trail back as it is stored: records by sequence with their exact bytes (a
 * verifier hashes those), in pages, and the signed checkpoints. A page reads its records by key
 * (no listing of the trail), 16 at a time; a sequence with nothing stored is left out, so that a
 * missing record shows as a gap. The checkpoints are listed before the trail's end is found, so
 * that every checkpoint answered is at or below the end unless records were removed.
 */
import { AuditCheckpoint } from "../../../core/audit/trail.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { readJson } from "../../repo.ts";
import { findEnd } from "./append-audit.ts";
import { z } from "zod";
import { consortiumDeps } from "../runs/run-scope.ts";

/** The most records one page answers. */
export const MAX_AUDIT_PAGE = 1000;
const PARALLEL_READS = 16;

const seqOf = (prefix: string) => (key: string) => Number(key.slice(prefix.length, -".json".length));
const Hint = z.object({ seq: z.int().min(0) });

export interface AuditPage {
  /** Each record's stored text, exactly (UTF-8 JSON): verification hashes its bytes. */
  readonly records: { readonly seq: number; readonly text: string }[];
  /** The `after` of the next page, or null at the end. */
  readonly next: number | null;
  /** The checkpoints of this page's sequences; on the last page also every one past the trail's end (which says records were removed). */
  readonly checkpoints: AuditCheckpoint[];
}

async function readCheckpoint(root: CoordinatorDeps, seq: number): Promise<AuditCheckpoint | null> {
  return readJson(root.store, keys.auditCheckpoint(seq), AuditCheckpoint).catch(() => null);
}

/** The trail's last sequence (0 when empty), found from the head hint as an append finds it. */
export async function auditEnd(deps: CoordinatorDeps): Promise<number> {
  const root = consortiumDeps(deps);
  const hint = await readJson(root.store, keys.auditHead, Hint).catch(() => null);
  return (await findEnd(root, { seq: hint?.seq ?? 0 })).seq;
}

/** Records after sequence `after`, at most `limit`, and the checkpoints that go with them. */
export async function readAuditPage(deps: CoordinatorDeps, page: { readonly after: number; readonly limit: number }): Promise<AuditPage> {
  const root = consortiumDeps(deps);
  const limit = Math.max(1, Math.min(MAX_AUDIT_PAGE, page.limit));
  // Checkpoints first: one signed after the end is found would sit past it and read as a cut tail.
  const signed = (await root.store.list(keys.auditCheckpointsPrefix)).map(seqOf(keys.auditCheckpointsPrefix)).filter((n) => Number.isSafeInteger(n) && n > page.after);
  const hint = await readJson(root.store, keys.auditHead, Hint).catch(() => null);
  const end = (await findEnd(root, { seq: hint?.seq ?? 0 })).seq;
  const to = Math.min(end, page.after + limit);
  const decoder = new TextDecoder();
  const records: { seq: number; text: string }[] = [];
  for (let from = page.after + 1; from <= to; from += PARALLEL_READS) {
    const batch = Array.from({ length: Math.min(PARALLEL_READS, to - from + 1) }, (_, i) => from + i);
    const read = await Promise.all(batch.map(async (seq) => ({ seq, bytes: await root.store.get(keys.auditRecord(seq)) })));
    for (const r of read) if (r.bytes !== null) records.push({ seq: r.seq, text: decoder.decode(r.bytes) });
  }
  const next = to < end ? to : null;
  const wanted = signed.filter((seq) => seq <= to || next === null);
  const checkpoints = (await Promise.all(wanted.map((seq) => readCheckpoint(root, seq)))).filter((c): c is AuditCheckpoint => c !== null);
  return { records, next, checkpoints };
}

/** The whole trail as `verifyChain` takes it: sequence i + 1 at index i, null where nothing is stored. */
export async function readWholeTrail(deps: CoordinatorDeps): Promise<{ records: (Uint8Array | null)[]; checkpoints: AuditCheckpoint[] }> {
  const encoder = new TextEncoder();
  const records: (Uint8Array | null)[] = [];
  const checkpoints: AuditCheckpoint[] = [];
  let after = 0;
  for (;;) {
    const page = await readAuditPage(deps, { after, limit: MAX_AUDIT_PAGE });
    const to = page.next ?? (page.records.at(-1)?.seq ?? after);
    while (records.length < to) records.push(null);
    for (const r of page.records) records[r.seq - 1] = encoder.encode(r.text);
    checkpoints.push(...page.checkpoints);
    if (page.next === null) break;
    after = page.next;
  }
  return { records, checkpoints };
}
