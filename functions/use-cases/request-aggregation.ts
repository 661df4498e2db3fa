import type { AggregateJob } from "../../core/schemas/round.ts";
import type { CoordinatorDeps } from "../deps.ts";

/** Queues the round's aggregation; duplicates are harmless because aggregation is idempotent. */
export async function requestAggregation(deps: CoordinatorDeps, federation: string, round: number): Promise<void> {
  const job: AggregateJob = { kind: "aggregate", federation, round };
  await deps.queue.send(JSON.stringify(job), `${federation}-aggregate-${round}`);
  deps.logger.info("aggregation queued", { round });
}
