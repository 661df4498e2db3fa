import type { Clock, JobQueue, Logger, ObjectStore } from "./ports.ts";

/** Everything the coordinator needs; handlers build it from env, tests from fakes. */
export interface CoordinatorDeps {
  readonly store: ObjectStore;
  readonly queue: JobQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly adminToken: string;
  /** Lifetime of presigned URLs handed to sites. */
  readonly urlTtlSeconds?: number;
  /** Largest JSON body any route accepts. */
  readonly maxBodyBytes?: number;
  /** How long a site is told to wait before asking again. */
  readonly pollMs?: number;
  /** How long a round may stay aggregating before the cron re-queues its job (default 2 hours, past SQS's own retries). */
  readonly aggregationGraceMs?: number;
}
