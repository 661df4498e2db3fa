import { isDeepStrictEqual } from "node:util";
import { ConsiliumError } from "../../core/errors.ts";
import { SiteStats } from "../../core/schemas/site-stats.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { readJson, writeJson } from "../repo.ts";
import { assertConsistentStats } from "./check-site-stats.ts";
import { completeStats } from "./complete-stats.ts";
import { assertPhase, loadFederation } from "./load-federation.ts";

/**
 * Takes one site's preprocessing statistics (refused, never stored, when they are inconsistent),
 * then tries to leave the stats phase (see `completeStats`). The same statistics posted again are a
 * retry, not a duplicate: the post that crashed part-way through the transition must be able to
 * finish it.
 */
export async function submitStats(deps: CoordinatorDeps, siteId: string, stats: SiteStats): Promise<{ complete: boolean }> {
  const { config, state } = await loadFederation(deps);
  assertPhase(state, "stats");
  for (const f of config.features.features) {
    if (stats.features[f.name]?.kind !== f.type) throw new ConsiliumError("BAD_STATS", `statistics for feature "${f.name}" are missing or not ${f.type}`, 422);
  }
  assertConsistentStats(stats, { noisy: config.statsNoise !== undefined, spec: config.features });
  const fresh = await writeJson(deps.store, keys.stats(siteId), stats, { ifAbsent: true });
  const retry = !fresh && isDeepStrictEqual(await readJson(deps.store, keys.stats(siteId), SiteStats), stats);
  const progress = await completeStats(deps, config);
  if (!fresh && !retry) throw new ConsiliumError("DUPLICATE_STATS", `site ${siteId} already reported statistics`, 409);
  // 409 rather than 422: this site's statistics are stored; what conflicts is the consortium's whole set.
  if (progress.kind === "blocked") throw new ConsiliumError(progress.failure.code, progress.failure.message, 409);
  return { complete: progress.kind === "complete" };
}
