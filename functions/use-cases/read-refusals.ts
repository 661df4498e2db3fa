import { ConsiliumError } from "../../core/errors.ts";
import { FailureCount, Rejection } from "../../core/schemas/round.ts";
import { MAX_STATUS_REJECTIONS } from "../../core/schemas/status.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import type { Logger, ObjectStore } from "../ports.ts";
import { readJson } from "../repo.ts";
import { MINUTE_MS } from "./count-failure.ts";

/** A record that does not parse is reported and passed over: a log of refusals must never take the status down. */
async function readOrPass<T>(read: () => Promise<T | null>, logger: Logger, key: string, what: string): Promise<T | null> {
  return read().catch((err: unknown) => {
    if (!(err instanceof ConsiliumError && err.code === "CORRUPT_STATE")) throw err;
    logger.error(`unreadable ${what} record passed over`, { key, message: err.message });
    return null;
  });
}

/**
 * The newest `limit` rejections after the `skip` newest, by time then by id (the key) whatever
 * order the store lists in, and how many are stored. Keys begin with the zero-padded time, so
 * only those of the page are read.
 */
export async function readRejections(store: ObjectStore, logger: Logger, page: { readonly skip?: number; readonly limit?: number } = {}): Promise<{ rejections: Rejection[]; total: number }> {
  const { skip = 0, limit = MAX_STATUS_REJECTIONS } = page;
  const list = await store.list(keys.rejectionsPrefix);
  const sorted = [...list].sort();
  const newest = sorted.slice(Math.max(0, sorted.length - skip - limit), Math.max(0, sorted.length - skip));
  const read = await Promise.all(newest.map(async (k) => ({ id: k, r: await readOrPass(() => readJson(store, k, Rejection), logger, k, "rejection") })));
  const rejections = read
    .filter((x): x is { id: string; r: Rejection } => x.r !== null)
    .sort((a, b) => a.r.at - b.r.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((x) => x.r);
  return { rejections, total: list.length };
}

/** The refusals before authentication counted over the last hour (this minute and the 59 before), by minute then code. */
export async function readFailureCounts(deps: CoordinatorDeps): Promise<FailureCount[]> {
  const now = Math.floor(deps.clock.now() / MINUTE_MS);
  const first = now - 59;
  const hours = [...new Set([Math.floor(first / 60), Math.floor(now / 60)])];
  const listed = (await Promise.all(hours.map((h) => deps.store.list(keys.failuresOfHour(h))))).flat();
  const inHour = listed.filter((k) => {
    const minute = Number(/\/(\d+)-[^/]*\.json$/.exec(k)?.[1]);
    return minute >= first && minute <= now;
  });
  const counts = await Promise.all(inHour.map((k) => readOrPass(() => readJson(deps.store, k, FailureCount), deps.logger, k, "failure count")));
  return counts.filter((c): c is FailureCount => c !== null).sort((a, b) => a.minute - b.minute || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
}
