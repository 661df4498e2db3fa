import type { RoundRecord } from "../../core/schemas/round.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { writeJson } from "../repo.ts";
import { requestAggregation } from "./request-aggregation.ts";

/**
 * Longer than SQS can keep redelivering the job (infra/queue.ts: 3 receives, each hidden for a
 * 30-minute visibility timeout, so up to 90 minutes before the dead-letter queue): a shorter grace
 * re-queues jobs SQS is still retrying. Deps may shorten or lengthen it.
 */
export const DEFAULT_AGGREGATION_GRACE_MS = 2 * 60 * 60_000;

/**
 * Re-queues the aggregate job of a round that has been aggregating for longer than the grace
 * period (its job was lost, or exhausted its retries and went to the dead-letter queue), counting
 * the re-queue in the round.
 * The grace period starts again at each re-queue. Returns whether it re-queued.
 */
export async function requeueStuckAggregation(deps: CoordinatorDeps, federation: string, round: RoundRecord): Promise<boolean> {
  const now = deps.clock.now();
  const since = round.requeuedAt ?? round.aggregationStartedAt ?? round.openedAt;
  if (round.status !== "aggregating" || now - since <= (deps.aggregationGraceMs ?? DEFAULT_AGGREGATION_GRACE_MS)) return false;
  const requeues = (round.requeues ?? 0) + 1;
  // Recorded before sending, so that a failed send is retried after another grace period rather than sent in a loop.
  await writeJson(deps.store, keys.round(round.round), { ...round, requeues, requeuedAt: now } satisfies RoundRecord);
  await requestAggregation(deps, federation, round.round, requeues);
  deps.logger.warn("aggregation re-queued", { round: round.round, requeues, stuckMs: now - since });
  return true;
}
