// What each coordinator function may do to the state bucket and the jobs queue: named actions on
// those two resources only. Linking the bucket and the queue would grant `s3:*` and `sqs:*` (SST's
// defaults for a linked Bucket and Queue), so they are not linked: the function gets the same
// SST_RESOURCE_State / SST_RESOURCE_Jobs variables a link would set (functions/handlers/resources.ts
// reads them) and these permissions. The aggregate job's subscription adds SQS's receive and delete
// on its own. test/infra-policy.test.ts holds every function to this. The secrets stay linked: SST
// bundles them encrypted with the function (functions/handlers/resources.ts reads them).

/** Objects: read (GET, HEAD, presigned GETs), write (PUT, conditional writes, presigned PUTs, multipart parts and completion), delete, and abandon a multipart upload: the S3 calls functions/adapters/s3-object-store.ts makes. */
export const STATE_OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"];
/** The bucket: list keys under a prefix. */
export const STATE_BUCKET_ACTIONS = ["s3:ListBucket"];
/** The jobs queue: send aggregate jobs. */
export const JOBS_ACTIONS = ["sqs:SendMessage"];

export function coordinatorAccess(bucket: sst.aws.Bucket, jobs: sst.aws.Queue) {
  return {
    environment: {
      SST_RESOURCE_State: $jsonStringify({ name: bucket.name }),
      SST_RESOURCE_Jobs: $jsonStringify({ url: jobs.url }),
    },
    permissions: [
      { actions: STATE_OBJECT_ACTIONS, resources: [$interpolate`${bucket.arn}/*`] },
      { actions: STATE_BUCKET_ACTIONS, resources: [bucket.arn] },
      { actions: JOBS_ACTIONS, resources: [jobs.arn] },
    ],
  };
}
