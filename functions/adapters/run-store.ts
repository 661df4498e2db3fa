/**
 * @module
 * One run's view of the consortium's store: the run's own keys (`federation.json`, `rounds/…`,
 * `models/…`) live under its prefix `runs/{seq}/`, the consortium's keys (CONSORTIUM_PREFIXES:
 * sites, identities, the registry, run records) stay where they are. Use cases keep speaking of
 * `keys.federation` and `keys.site(id)`; which run they act on is the store they are given.
 */
import { CONSORTIUM_PREFIXES } from "../keys.ts";
import type { ObjectStore } from "../ports.ts";

const shared = (key: string): boolean => CONSORTIUM_PREFIXES.some((p) => key.startsWith(p));

/**
 * The store as run `prefix` sees it; the empty prefix is the store itself (a store from before
 * runs, whose one federation is at the top).
 *
 * @example
 * const run = runStore(store, "runs/000002/");
 * await run.get("federation.json"); // reads runs/000002/federation.json
 * await run.get("sites/st-mary.json"); // reads sites/st-mary.json
 */
export function runStore(store: ObjectStore, prefix: string): ObjectStore {
  if (prefix === "") return store;
  const at = (key: string): string => (shared(key) ? key : prefix + key);
  return {
    get: (key) => store.get(at(key)),
    getStream: (key) => store.getStream(at(key)),
    put: (key, body, options) => store.put(at(key), body, options),
    head: (key) => store.head(at(key)),
    delete: (key) => store.delete(at(key)),
    presignGet: (key, expires) => store.presignGet(at(key), expires),
    presignPut: (key, expires, length) => store.presignPut(at(key), expires, length),
    presignMultipart: (key, expires, length, partBytes) => store.presignMultipart(at(key), expires, length, partBytes),
    completeMultipart: (key, uploadId, parts) => store.completeMultipart(at(key), uploadId, parts),
    async list(listPrefix) {
      if (shared(listPrefix)) return store.list(listPrefix);
      // A run's listing answers the keys as the run names them; a prefix that could reach a consortium key (the empty one) gets those too.
      const own = (await store.list(prefix + listPrefix)).map((k) => k.slice(prefix.length));
      const reach = CONSORTIUM_PREFIXES.filter((p) => p.startsWith(listPrefix));
      if (reach.length === 0) return own;
      const theirs = (await Promise.all(reach.map((p) => store.list(p)))).flat();
      return [...own, ...theirs].sort();
    },
  };
}
