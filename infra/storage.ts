// All coordinator state (federation, rounds, updates, models, audit) lives in this one bucket.
export const bucket = new sst.aws.Bucket("State");

// Every train task for an update above the multipart threshold opens a multipart upload; a site
// that stops before completing it would leave its parts stored (and billed) for ever. SST's own
// `lifecycle` option has no abort rule, so it is set on the bucket directly.
export const abortIncompleteUploads = new aws.s3.BucketLifecycleConfigurationV2("StateAbortIncompleteUploads", {
  bucket: bucket.name,
  rules: [{ id: "abort-incomplete-multipart-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 2 } }],
});
