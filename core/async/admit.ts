import type { AsyncPolicy } from "./async-policy.ts";
import type { Arrival, BufferState, FlushEntry, FlushRecord } from "./buffer-state.ts";
import { stalenessWeight } from "./staleness-weight.ts";

/** What became of one arrival. Only "buffered" and "flush" change the state. */
export type AdmitOutcome =
  | { readonly kind: "buffered"; readonly staleness: number; readonly pending: number }
  | { readonly kind: "duplicate"; readonly reason: string }
  | { readonly kind: "stale"; readonly staleness: number; readonly reason: string }
  | { readonly kind: "invalid"; readonly reason: string }
  /** Apply `entries` (`applyBuffer`) to the model of `version − 1` to make model `version`. */
  | { readonly kind: "flush"; readonly version: number; readonly entries: readonly FlushEntry[] };

export interface Admitted {
  readonly state: BufferState;
  readonly outcome: AdmitOutcome;
}

const sameUpdate = (a: Arrival, b: Arrival): boolean => a.siteId === b.siteId && a.baseVersion === b.baseVersion && a.key === b.key;

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Site, then base version, then key: a flush's order, and so its float sums, never depend on arrival order. */
const canonical = (a: Arrival, b: Arrival): number => compare(a.siteId, b.siteId) || a.baseVersion - b.baseVersion || compare(a.key, b.key);

/**
 * Admits one update into the buffer of FedBuff (Nguyen et al. 2022). Its staleness is the server
 * version now minus the version it was trained from, so an update from an older version arriving
 * after a newer one simply counts as staler. A repeat delivery (same site, base version and key,
 * whether still buffered or already flushed) is a duplicate and changes nothing, and so is a
 * second update from a site for a base version it already sent one for, so delivery may
 * be at-least-once; an update more than `maxStaleness` versions old is refused; one claiming a
 * version the server has not reached is invalid. The `bufferSize`-th update admitted since the
 * last flush flushes the buffer: the outcome lists its updates in canonical order, each weighted
 * samples × staleness weight, and the state moves to the next version. Pure: `state` is never
 * modified, and a state read back from JSON admits exactly as the original.
 *
 * @example
 * const { state: next, outcome } = admit(state, { siteId: "h1", baseVersion: 3, samples: 120, key: sha }, policy);
 * if (outcome.kind === "flush") model = applyBuffer(model, await load(outcome.entries), outcome.entries.map((e) => e.weight), 1);
 */
export function admit(state: BufferState, arrival: Arrival, policy: AsyncPolicy): Admitted {
  const unchanged = (outcome: AdmitOutcome): Admitted => ({ state, outcome });
  const who = `update ${arrival.key} from ${arrival.siteId}`;
  if (state.pending.some((p) => sameUpdate(p, arrival))) return unchanged({ kind: "duplicate", reason: `${who} is already buffered` });
  const flush = state.flushed.find((f) => f.entries.some((e) => sameUpdate(e, arrival)));
  if (flush) return unchanged({ kind: "duplicate", reason: `${who} was already applied in version ${flush.version}` });
  // A site retrained from the same model (say, after a timeout) would count its rows twice: one update per site and base version.
  const sameBase = (a: Arrival) => a.siteId === arrival.siteId && a.baseVersion === arrival.baseVersion;
  if (state.pending.some(sameBase) || state.flushed.some((f) => f.entries.some(sameBase))) {
    return unchanged({ kind: "duplicate", reason: `${who}: site ${arrival.siteId} already sent an update trained from version ${arrival.baseVersion}` });
  }
  const staleness = state.version - arrival.baseVersion;
  if (staleness < 0) {
    return unchanged({ kind: "invalid", reason: `${who} claims base version ${arrival.baseVersion}, ahead of the server's ${state.version}` });
  }
  if (staleness > policy.maxStaleness) {
    const reason = `${who} was trained from version ${arrival.baseVersion}, ${staleness} versions behind the server's ${state.version}; the bound is ${policy.maxStaleness}`;
    return unchanged({ kind: "stale", staleness, reason });
  }
  const pending = [...state.pending, { ...arrival }];
  if (pending.length < policy.bufferSize) return { state: { ...state, pending }, outcome: { kind: "buffered", staleness, pending: pending.length } };
  const version = state.version + 1;
  // Every pending update arrived at state.version (a flush is the only thing that moves it), so staleness is that of arrival.
  const entries = pending.sort(canonical).map((e): FlushEntry => {
    const s = state.version - e.baseVersion;
    return { ...e, staleness: s, weight: e.samples * stalenessWeight(s, policy.weighting) };
  });
  const record: FlushRecord = { version, entries };
  const flushed = [...state.flushed, record].filter((f) => f.version > version - (policy.maxStaleness + 1));
  return { state: { version, pending: [], flushed }, outcome: { kind: "flush", version, entries } };
}
