// Each coordinator function's handler, memory, timeout and the secrets it links: infra/* deploys them with these values,
// `npm run build:lambda` bundles these handlers, and the Lambda harness (test/support/lambda/) runs
// them under these limits. Plain data, so code outside SST's program can read it.
//
// Memory: Lambda gives CPU in proportion to memory; the aggregate job decodes and sums deltas and is
// the one CPU-bound function. Timeouts: the API answers small JSON (deltas go to S3 by presigned
// URL); the cron's stays under its one-minute period so ticks never overlap; the relay's run takes
// 45 s of steps; the aggregate job gets five minutes for one round (the queue's visibility timeout
// is six times that, as AWS advises).
export const FUNCTIONS = {
  Api: { handler: "functions/handlers/api.handler", memoryMb: 512, timeoutSeconds: 30, secrets: ["AdminToken", "AuditKey"] },
  CloseRounds: { handler: "functions/handlers/cron.handler", memoryMb: 256, timeoutSeconds: 50, secrets: ["AdminToken", "AuditKey"] },
  Aggregate: { handler: "functions/handlers/aggregate.handler", memoryMb: 2048, timeoutSeconds: 300, secrets: ["AuditKey"] },
  // A regional stage's relay also links UpstreamToken (infra/relay.ts).
  RegionRelay: { handler: "functions/handlers/relay.handler", memoryMb: 512, timeoutSeconds: 55, secrets: ["AdminToken", "AuditKey"] },
} as const;

export type FunctionName = keyof typeof FUNCTIONS;

/** A function's handler, memory and timeout as SST takes them. */
export function sized(name: FunctionName) {
  const f = FUNCTIONS[name];
  return { handler: f.handler, memory: `${f.memoryMb} MB` as const, timeout: `${f.timeoutSeconds} seconds` as const };
}

/** The aggregate job's queue: messages per invocation (one gives each round the whole timeout), receives before the dead-letter queue, and the visibility timeout (six times the job's timeout, as AWS advises for SQS-triggered functions). */
export const JOBS = { batchSize: 1, maxReceives: 3, visibilityTimeoutSeconds: 6 * FUNCTIONS.Aggregate.timeoutSeconds } as const;
