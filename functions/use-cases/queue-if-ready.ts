import type { FederationConfig } from "../../core/schemas/federation.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { quorumOf } from "./load-federation.ts";
import { requestAggregation } from "./request-aggregation.ts";
import { activeSites } from "./quality.ts";

/**
 * Queues the round's aggregation once it has what it waits for: a quorum of updates, or an update
 * from every site taking part (not excluded by the data-quality checks) that did not decline the
 * round (its privacy budget). A round that every site declined stops the run's training
 * (`stop-declined-round.ts`).
 */
export async function queueIfReady(deps: CoordinatorDeps, config: FederationConfig, round: number): Promise<boolean> {
  const siteOf = (prefix: string) => (k: string) => k.slice(prefix.length, -".json".length);
  const updated = new Set((await deps.store.list(keys.updatesPrefix(round))).filter((k) => k.endsWith(".json")).map(siteOf(keys.updatesPrefix(round))));
  const declined = new Set((await deps.store.list(keys.declinesPrefix(round))).map(siteOf(keys.declinesPrefix(round))));
  // Distinct sites: one that declined and then sent an update anyway (refused, but a race can store both) counts once.
  const accounted = new Set([...updated, ...declined]).size;
  if (updated.size < quorumOf(config) && !(updated.size > 0 && accounted >= (await activeSites(deps, config)))) return false;
  await requestAggregation(deps, config.id, round);
  return true;
}
