import { JOBS } from "./functions";

// Keep failed jobs for SQS's maximum of 14 days so an operator can inspect and redrive them.
export const jobsDlq = new sst.aws.Queue("JobsDlq", {
  transform: { queue: { messageRetentionSeconds: 14 * 24 * 60 * 60 } },
});

export const jobs = new sst.aws.Queue("Jobs", {
  // AWS advises at least 6x the subscriber's timeout, so Lambda can retry a throttled batch before
  // SQS makes the message visible again.
  visibilityTimeout: `${JOBS.visibilityTimeoutSeconds} seconds`,
  dlq: { queue: jobsDlq.arn, retry: JOBS.maxReceives },
});
