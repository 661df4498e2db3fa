import type { AggregateJob } from "../../core/schemas/round.ts";
import type { CoordinatorDeps } from "../deps.ts";

/**
 * Queues the round's aggregation; duplicates are harmless because aggregation is idempotent.
 * `requeue` numbers a re-queue of a stuck round, so that a FIFO queue does not drop it as a
 * duplicate of the first send.
 */
export async function requestAggregation(deps: CoordinatorDeps, federation: string, round: number, requeue = 0): Promise<void> {
  const job: AggregateJob = { kind: "aggregate", federation, round, ...(deps.run && { run: deps.run.seq }) };
  await deps.queue.send(JSON.stringify(job), `${federation}-aggregate-${round}${requeue > 0 ? `-requeue-${requeue}` : ""}`);
  deps.logger.info("aggregation queued", { round, ...(requeue > 0 && { requeue }) });
}
