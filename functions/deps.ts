import type { KeyObject } from "node:crypto";
import type { Clock, JobQueue, Logger, ObjectStore } from "./ports.ts";

/** Everything the coordinator needs; handlers build it from env, tests from fakes. */
export interface CoordinatorDeps {
  readonly store: ObjectStore;
  readonly queue: JobQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly adminToken: string;
  /** The Ed25519 key that signs the audit trail's checkpoints (`auditSigningKey`); none: records are chained, not signed. */
  readonly auditKey?: { readonly privateKey: KeyObject; readonly publicKey: string };
  /**
   * The run these deps act on (`use-cases/runs/run-scope.ts`): their store is the run's view,
   * with the run's keys under `runs/{seq}/`; seq 0 is a store from before runs, its one federation
   * at the top. Absent: the consortium's deps, and entry points act on the active run.
   */
  readonly run?: { readonly seq: number };
  /** A run's deps keep the consortium's, for what outlives the run (the next run, the registry's own listing). */
  readonly consortium?: CoordinatorDeps;
  /** Lifetime of presigned URLs handed to sites. */
  readonly urlTtlSeconds?: number;
  /** Updates larger than this go up as a multipart upload (default 8 MiB; S3 takes at most 5 GiB in one PUT). */
  readonly multipartThresholdBytes?: number;
  /** Part size of those uploads (default 8 MiB, at least the store's smallest part: 5 MiB on S3). */
  readonly uploadPartBytes?: number;
  /** Largest JSON body any route accepts. */
  readonly maxBodyBytes?: number;
  /** How long a site is told to wait before asking again. */
  readonly pollMs?: number;
  /** How long a round may stay aggregating before the cron re-queues its job (default 2 hours, past SQS's own retries). */
  readonly aggregationGraceMs?: number;
}
