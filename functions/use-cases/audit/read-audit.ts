/**
 * @module
 * Reading the audit trail back as it is stored: records by sequence with their exact bytes (a
 * verifier hashes those), in pages, and the signed checkpoints. Sequences come from the keys, not
 * from the records, so that a record moved or missing shows as what it is.
 */
import { AuditCheckpoint } from "../../../core/audit/trail.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";

/** The most records one page answers. */
export const MAX_AUDIT_PAGE = 1000;

const rootOf = (deps: CoordinatorDeps): CoordinatorDeps => deps.consortium ?? deps;
const seqOf = (prefix: string) => (key: string) => Number(key.slice(prefix.length, -".json".length));

export interface AuditPage {
  /** Each record's stored text, exactly (UTF-8 JSON): verification hashes its bytes. */
  readonly records: { readonly seq: number; readonly text: string }[];
  /** The `after` of the next page, or null at the end. */
  readonly next: number | null;
  readonly checkpoints: AuditCheckpoint[];
}

/** Records after sequence `after`, at most `limit`; every checkpoint (they are few: one per hundred records or ten minutes). */
export async function readAuditPage(deps: CoordinatorDeps, page: { readonly after: number; readonly limit: number }): Promise<AuditPage> {
  const root = rootOf(deps);
  const limit = Math.max(1, Math.min(MAX_AUDIT_PAGE, page.limit));
  const seqs = (await root.store.list(keys.auditRecordsPrefix)).map(seqOf(keys.auditRecordsPrefix)).filter((n) => Number.isSafeInteger(n) && n > page.after);
  const chosen = seqs.slice(0, limit);
  const decoder = new TextDecoder();
  const records = [];
  for (const seq of chosen) {
    const bytes = await root.store.get(keys.auditRecord(seq));
    if (bytes !== null) records.push({ seq, text: decoder.decode(bytes) });
  }
  return { records, next: seqs.length > limit ? chosen.at(-1)! : null, checkpoints: await readCheckpoints(root) };
}

/** Every checkpoint that reads as one; others are left for the verifier to miss (it names what they would have pinned). */
export async function readCheckpoints(deps: CoordinatorDeps): Promise<AuditCheckpoint[]> {
  const root = rootOf(deps);
  const out: AuditCheckpoint[] = [];
  for (const key of await root.store.list(keys.auditCheckpointsPrefix)) {
    const bytes = await root.store.get(key);
    if (bytes === null) continue;
    const parsed = AuditCheckpoint.safeParse((() => {
      try {
        return JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        return null;
      }
    })());
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}

/** The whole trail as `verifyChain` takes it: sequence i + 1 at index i, null where nothing is stored. */
export async function readWholeTrail(deps: CoordinatorDeps): Promise<{ records: (Uint8Array | null)[]; checkpoints: AuditCheckpoint[] }> {
  const root = rootOf(deps);
  const seqs = (await root.store.list(keys.auditRecordsPrefix)).map(seqOf(keys.auditRecordsPrefix)).filter((n) => Number.isSafeInteger(n) && n > 0);
  const last = Math.max(0, ...seqs);
  const records: (Uint8Array | null)[] = Array.from({ length: last }, () => null);
  for (const seq of seqs) records[seq - 1] = await root.store.get(keys.auditRecord(seq));
  return { records, checkpoints: await readCheckpoints(root) };
}
