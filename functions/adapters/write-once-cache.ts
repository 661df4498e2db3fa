/**
 * @module
 * A read-through cache for the objects the coordinator writes exactly once (federation, models,
 * accepted updates, statistics…): they can never change, so a warm Lambda container or the
 * long-running coordinator need not fetch them again. Everything else goes straight through.
 */
import type { ObjectStore } from "../ports.ts";

const WRITE_ONCE = [
  /^federation\.json$/,
  /^preprocessing\.json$/,
  /^sites\/[^/]+\.json$/,
  /^stats\/[^/]+\.json$/,
  /^models\/\d+\/(weights\.bin|control\.bin|manifest\.json)$/,
  /^rounds\/\d+\/(included\.json|strategy-state\.bin)$/,
  /^rounds\/\d+\/accepted\/[^/]+\/[0-9a-f]{64}\.bin$/,
  /^evaluations\/[^/]+\.json$/,
];

export const isWriteOnce = (key: string): boolean => WRITE_ONCE.some((re) => re.test(key));

/**
 * Wraps a store so that reads of write-once keys are served from memory after the first, up to
 * `maxBytes` (oldest first out). Absent objects are never cached: they may be written later.
 * @example
 * const store = withWriteOnceCache(new S3ObjectStore({ client, bucket }));
 */
export function withWriteOnceCache(store: ObjectStore, maxBytes = 256 * 1024 * 1024): ObjectStore {
  const cache = new Map<string, Uint8Array>();
  let bytes = 0;
  const remember = (key: string, value: Uint8Array) => {
    if (value.length > maxBytes) return;
    cache.set(key, value);
    bytes += value.length;
    for (const [k, v] of cache) {
      if (bytes <= maxBytes) break;
      cache.delete(k);
      bytes -= v.length;
    }
  };
  return {
    async get(key) {
      const hit = cache.get(key);
      if (hit) return hit;
      const value = await store.get(key);
      if (value !== null && isWriteOnce(key)) remember(key, value);
      return value;
    },
    async head(key) {
      return cache.get(key)?.length ?? store.head(key);
    },
    put: (key, body, options) => store.put(key, body, options),
    list: (prefix) => store.list(prefix),
    delete: (key) => {
      cache.delete(key);
      return store.delete(key);
    },
    presignGet: (key, expires) => store.presignGet(key, expires),
    presignPut: (key, expires, length) => store.presignPut(key, expires, length),
  };
}
