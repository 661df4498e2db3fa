import { Rejection } from "../../core/schemas/round.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { readJson, writeJson } from "../repo.ts";

/**
 * Keeps why the sites' statistics do not merge where the admin status shows it. Every retry
 * fails the same way until the set of statistics changes, so an unchanged failure is not
 * rewritten (nor logged) again.
 */
export async function recordStatsFailure(deps: CoordinatorDeps, reason: string): Promise<Rejection> {
  const message = `site statistics cannot be merged: ${reason}`;
  const known = await readJson(deps.store, keys.statsFailure, Rejection);
  if (known?.message === message) return known;
  const failure: Rejection = { at: deps.clock.now(), siteId: null, round: null, code: "STATS_MERGE_FAILED", message };
  await writeJson(deps.store, keys.statsFailure, failure);
  deps.logger.error("site statistics cannot be merged", { reason });
  return failure;
}
