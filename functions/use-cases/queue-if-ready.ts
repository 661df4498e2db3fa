import type { FederationConfig } from "../../core/schemas/federation.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { quorumOf } from "./load-federation.ts";
import { requestAggregation } from "./request-aggregation.ts";

/**
 * Queues the round's aggregation once it has what it waits for: a quorum of updates, or, when
 * some sites declined the round (their privacy budget), an update from every site that did not
 * decline. A round that every site declined waits for its deadline, which skips it.
 */
export async function queueIfReady(deps: CoordinatorDeps, config: FederationConfig, round: number): Promise<boolean> {
  const updates = (await deps.store.list(keys.updatesPrefix(round))).filter((k) => k.endsWith(".json")).length;
  const declines = (await deps.store.list(keys.declinesPrefix(round))).length;
  if (updates < quorumOf(config) && !(updates > 0 && updates + declines >= config.expectedSites)) return false;
  await requestAggregation(deps, config.id, round);
  return true;
}
