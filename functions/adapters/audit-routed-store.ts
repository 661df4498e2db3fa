/**
 * @module
 * The audit trail in a bucket of its own: the records (`audit/trail/`) and the signed checkpoints
 * (`audit/checkpoints/`), written once each, go to the audit store — deployed, a bucket under S3
 * Object Lock in compliance mode, so that no one, the account's root included, can delete or
 * overwrite one before its retention ends (`infra/storage.ts`). Everything else, the trail's head
 * hint and the download marks included (rewritten or cleared by design), stays in the state store.
 * Listing a prefix that covers both merges them in key order.
 */
import type { ObjectStore } from "../ports.ts";

/** The key prefixes the audit store holds. */
export const AUDIT_BUCKET_PREFIXES = ["audit/trail/", "audit/checkpoints/"] as const;

const inAudit = (key: string): boolean => AUDIT_BUCKET_PREFIXES.some((p) => key.startsWith(p));

/** A store whose audit records and checkpoints live in `audit`, everything else in `state`. */
export function withAuditStore(state: ObjectStore, audit: ObjectStore): ObjectStore {
  const at = (key: string): ObjectStore => (inAudit(key) ? audit : state);
  return {
    get: (key) => at(key).get(key),
    getStream: (key) => at(key).getStream(key),
    put: (key, body, options) => at(key).put(key, body, options),
    head: (key) => at(key).head(key),
    delete: (key) => at(key).delete(key),
    presignGet: (key, ttl) => at(key).presignGet(key, ttl),
    presignPut: (key, ttl, length) => at(key).presignPut(key, ttl, length),
    presignMultipart: (key, ttl, length, part) => at(key).presignMultipart(key, ttl, length, part),
    completeMultipart: (key, uploadId, parts) => at(key).completeMultipart(key, uploadId, parts),
    async list(prefix) {
      // Inside an audit prefix: the audit store alone. A prefix that covers one (say "audit/" or ""): both, merged.
      if (inAudit(prefix)) return audit.list(prefix);
      const covers = AUDIT_BUCKET_PREFIXES.some((p) => p.startsWith(prefix));
      if (!covers) return state.list(prefix);
      const [fromState, fromAudit] = await Promise.all([state.list(prefix), audit.list(prefix)]);
      return [...fromState.filter((k) => !inAudit(k)), ...fromAudit].sort();
    },
  };
}
