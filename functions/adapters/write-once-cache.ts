/**
 * @module
 * A read-through cache for the objects the coordinator writes exactly once (federation, models,
 * accepted updates, statistics…): they can never change, so a warm Lambda container or the
 * long-running coordinator need not fetch them again. Everything else goes straight through.
 */
import type { ObjectStore } from "../ports.ts";

/** A run's write-once keys, under its prefix `runs/{seq}/` (or at the top of a store from before runs). */
const RUN_WRITE_ONCE = [
  /federation\.json$/,
  /preprocessing\.json$/,
  /warm-start\.json$/,
  /evaluation-champion\.json$/,
  // The data-quality report, fixed with If-None-Match when the statistics phase completes (`complete-stats.ts`).
  /quality\.json$/,
  /stats\/[^/]+\.json$/,
  /models\/\d+\/(weights\.bin|control\.bin|delta\.bin|downlink-residual\.bin|manifest\.json)$/,
  /rounds\/\d+\/(included\.json|strategy-state\.bin)$/,
  // A closed round's summary, written with If-None-Match (`use-cases/round-summary.ts`).
  /summaries\/\d+\.json$/,
  /rounds\/\d+\/accepted\/[^/]+\/[0-9a-f]{64}\.bin$/,
  /evaluations\/[^/]+\.json$/,
  // Secure aggregation: the round's session, each closed phase's record, the sites' messages (never their uploads, which a site may overwrite).
  /rounds\/\d+\/secure\/(session|advertise\.closed|share-keys\.closed|masked-input\.closed|unmasking\.closed)\.json$/,
  /rounds\/\d+\/secure\/(advertise|share-keys|masked-input|unmasking)\/[^/]+\.json$/,
].map((re) => new RegExp(`^(runs/\\d+/)?${re.source}`));

/** The consortium's write-once keys: its agreement, run records, sites, identities and the registry's versions and champion entries. */
const CONSORTIUM_WRITE_ONCE = [
  /^consortium\/(config|runs\/\d+)\.json$/,
  /^sites\/[^/]+\.json$/,
  /^site-credentials\/[^/]+\/\d+\.json$/,
  /^identities\/[^/]+\.json$/,
  /^registry\/versions\/\d+\/(run\.json|card\.json|weights\.bin|preprocessing\.json|decision\.json)$/,
  /^registry\/champion\/\d+\.json$/,
];

const WRITE_ONCE = [...RUN_WRITE_ONCE, ...CONSORTIUM_WRITE_ONCE];

export const isWriteOnce = (key: string): boolean => WRITE_ONCE.some((re) => re.test(key));

/**
 * Wraps a store so that reads of write-once keys are served from memory after the first (or after
 * this coordinator's own If-None-Match write of one), up to `maxBytes` (oldest first out). Absent objects are never cached: they may be written later.
 * Concurrent misses on one key share one read, so its bytes are fetched and counted once.
 * @example
 * const store = withWriteOnceCache(new S3ObjectStore({ client, bucket }));
 */
export function withWriteOnceCache(store: ObjectStore, maxBytes = 256 * 1024 * 1024): ObjectStore {
  const cache = new Map<string, Uint8Array>();
  const reading = new Map<string, Promise<Uint8Array | null>>();
  let bytes = 0;
  const forget = (key: string) => {
    const held = cache.get(key);
    if (held && cache.delete(key)) bytes -= held.length;
    reading.delete(key);
  };
  const remember = (key: string, value: Uint8Array, replace = false) => {
    if (value.length > maxBytes || (cache.has(key) && !replace)) return;
    forget(key);
    cache.set(key, value);
    bytes += value.length;
    for (const [k, v] of cache) {
      if (bytes <= maxBytes) break;
      cache.delete(k);
      bytes -= v.length;
    }
  };
  return {
    get(key) {
      const hit = cache.get(key);
      if (hit) return Promise.resolve(hit);
      if (!isWriteOnce(key)) return store.get(key);
      const pending = reading.get(key);
      if (pending) return pending;
      const settle = (): boolean => reading.get(key) === read && reading.delete(key);
      const read = store.get(key).then(
        (value) => {
          // A delete while the read was in flight wins: what was read may no longer be there.
          if (settle() && value !== null) remember(key, value);
          return value;
        },
        (err: unknown) => {
          settle();
          throw err;
        },
      );
      reading.set(key, read);
      return read;
    },
    async getStream(key) {
      // Streams are for objects too large to hold, so they are served from the cache but never fill it.
      const hit = cache.get(key);
      return hit ? (async function* () { yield hit; })() : store.getStream(key);
    },
    async head(key) {
      return cache.get(key)?.length ?? store.head(key);
    },
    // A write-once object this coordinator just wrote with If-None-Match is what every later read would fetch: it fills the cache
    // (with a copy: the caller may reuse its buffer).
    put: async (key, body, options) => {
      const written = await store.put(key, body, options);
      // (A store that emulates If-None-Match with a HEAD first answers true to two racing processes: the cache then holds
      // this process's body, so such a store is for one coordinator process only, as the embedded one is.)
      if (written && options?.ifAbsent && isWriteOnce(key) && body.length <= maxBytes) {
        remember(key, typeof body === "string" ? new TextEncoder().encode(body) : body.slice(), true);
      }
      return written;
    },
    list: (prefix) => store.list(prefix),
    delete: (key) => {
      forget(key);
      return store.delete(key);
    },
    presignGet: (key, expires) => store.presignGet(key, expires),
    presignPut: (key, expires, length) => store.presignPut(key, expires, length),
    presignMultipart: (key, expires, length, partBytes) => store.presignMultipart(key, expires, length, partBytes),
    // Completing replaces the object, so a cached copy of the key would go stale.
    completeMultipart: async (key, uploadId, parts) => {
      await store.completeMultipart(key, uploadId, parts);
      forget(key);
    },
  };
}
