import { applyReputation } from "../../../core/scoring/reputation.ts";
import type { SiteUpdate } from "../../../core/strategy/strategy.ts";
import { maxUpdateAbsOf } from "../load-federation.ts";
import { loadStrategyState } from "../load-strategy-state.ts";
import { loadModel } from "../models.ts";
import { loadReputation } from "../score-round.ts";
import { verifyUpdate } from "../verify-update.ts";
import { eachUpdate, missingMessage, weightOf, type Aggregated, type RoundContext } from "./round-context.ts";

/**
 * Decodes every update, then applies the strategy: what robust aggregators (median, geomed…) and
 * contribution scoring need, at the cost of one float32 copy of the model per site.
 */
export async function decodedRound(ctx: RoundContext): Promise<Aggregated> {
  const { deps, job, baseVersion, config, strategy, bodySize, length } = ctx;
  const updates: SiteUpdate[] = [];
  await eachUpdate(ctx, async (siteId, m, key) => {
    const { values } = await verifyUpdate(deps.store, key, { ...m, length, codec: config.codec, maxAbs: maxUpdateAbsOf(config) }, missingMessage(siteId, job.round));
    const control = strategy.controlVariates ? values.subarray(bodySize) : undefined;
    updates.push({ siteId, delta: values.subarray(0, bodySize), weight: weightOf(config, m, baseVersion), ...(control && { control }) });
  });
  const global = await loadModel(deps, baseVersion);
  const state = await loadStrategyState(deps, strategy, baseVersion, bodySize);
  // Contribution scoring leaves quarantined sites out and scales down-weighted sites' weights.
  const reputation = config.scoring?.enabled ? await loadReputation(deps, baseVersion) : null;
  const { kept, excluded } = reputation ? applyReputation(reputation, updates, job.round) : { kept: updates, excluded: [] };
  const result = strategy.aggregate({ global, updates: kept }, state);
  return { result, kept, excluded, state, global, ...(reputation && { scoring: { reputation, updates, kept } }) };
}
