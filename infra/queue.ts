import { coordinatorAccess } from "./access";
import { runtime } from "./runtime";
import { bucket } from "./storage";
import { auditKey } from "./secrets";

// Keep failed jobs for SQS's maximum of 14 days so an operator can inspect and redrive them.
export const jobsDlq = new sst.aws.Queue("JobsDlq", {
  transform: { queue: { messageRetentionSeconds: 14 * 24 * 60 * 60 } },
});

export const jobs = new sst.aws.Queue("Jobs", {
  // AWS advises at least 6x the subscriber's 5-minute timeout, so Lambda can retry a throttled
  // batch before SQS makes the message visible again.
  visibilityTimeout: "30 minutes",
  dlq: { queue: jobsDlq.arn, retry: 3 },
});

jobs.subscribe(
  {
    handler: "functions/handlers/aggregate.handler",
    runtime,
    link: [auditKey],
    ...coordinatorAccess(bucket, jobs),
    timeout: "5 minutes",
    // Lambda CPU scales with memory; decoding and accumulating deltas is CPU-bound.
    memory: "2048 MB",
  },
  // One job per invocation gives each round the whole timeout; partial responses keep the
  // handler contract right if the batch size is ever raised.
  { batch: { size: 1, partialResponses: true } },
);
