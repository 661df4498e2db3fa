// What each coordinator function may do: the statements of infra/policy.ts over this stack's
// buckets, queue and key. Linking the buckets and the queue would grant `s3:*` and `sqs:*` (SST's
// defaults for a linked Bucket and Queue), so they are not linked: the function gets the same
// SST_RESOURCE_State / SST_RESOURCE_Audit / SST_RESOURCE_Jobs variables a link would set
// (functions/handlers/resources.ts reads them) and these permissions. The aggregate job's
// subscription adds SQS's receive and delete on its own. test/infra-policy.test.ts holds every
// function to this. The secrets stay linked: SST bundles them encrypted with the function
// (functions/handlers/resources.ts reads them).
import type { FunctionName } from "./functions";
import { functionPolicy } from "./policy";
import { auditBucket, bucket, key } from "./storage";
import { jobs } from "./queue";

export function coordinatorAccess(name: FunctionName) {
  const arns = { state: bucket.arn, audit: auditBucket.arn, jobs: jobs.arn, key: key.arn };
  return {
    environment: {
      SST_RESOURCE_State: $jsonStringify({ name: bucket.name }),
      SST_RESOURCE_Audit: $jsonStringify({ name: auditBucket.name }),
      SST_RESOURCE_Jobs: $jsonStringify({ url: jobs.url }),
    },
    permissions: functionPolicy(name, arns, (arn, suffix) => $interpolate`${arn}${suffix}`),
  };
}
