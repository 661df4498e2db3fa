import { initBody, seededRandom } from "../../core/model/init-params.ts";
import { modelLayout } from "../../core/model/layout.ts";
import { createStrategy } from "../../core/strategy/create-strategy.ts";
import { mergeSiteStats } from "../../core/preprocess/merge-stats.ts";
import { ConsiliumError } from "../../core/errors.ts";
import { SiteStats } from "../../core/schemas/site-stats.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { mustReadJson, writeJson } from "../repo.ts";
import { assertPhase, loadFederation } from "./load-federation.ts";
import { saveModel } from "./models.ts";
import { advance } from "./open-round.ts";

/**
 * Takes one site's preprocessing statistics; once every expected site has reported, fixes the
 * consortium's preprocessing, creates model 0 and opens round 1.
 */
export async function submitStats(deps: CoordinatorDeps, siteId: string, stats: SiteStats): Promise<{ complete: boolean }> {
  const { config, state } = await loadFederation(deps);
  assertPhase(state, "stats");
  for (const f of config.features.features) {
    if (stats.features[f.name]?.kind !== f.type) throw new ConsiliumError("BAD_STATS", `statistics for feature "${f.name}" are missing or not ${f.type}`, 422);
  }
  if (!(await writeJson(deps.store, keys.stats(siteId), stats, { ifAbsent: true }))) {
    throw new ConsiliumError("DUPLICATE_STATS", `site ${siteId} already reported statistics`, 409);
  }
  const reported = await deps.store.list(keys.statsPrefix);
  if (reported.length < config.expectedSites) return { complete: false };
  const all = await Promise.all(reported.map((k) => mustReadJson(deps.store, k, SiteStats, "NO_STATS", k)));
  const prep = mergeSiteStats(all, config.features);
  if (!(await writeJson(deps.store, keys.preprocessing, prep, { ifAbsent: true }))) return { complete: true };
  const layout = modelLayout(config.model, prep.inputs.length);
  const strategy = createStrategy(config.strategy);
  const control = strategy.controlVariates ? strategy.init(layout.bodySize).vectors.c : undefined;
  await saveModel(deps, initBody(layout, seededRandom(config.seed)), { version: 0, round: 0, strategy: strategy.spec, sites: [], samples: 0 }, control);
  await advance(deps, config, 1, 0);
  return { complete: true };
}
