import { AUDIT_BUCKET_POLICY } from "./policy";

// The coordinator's storage: the state bucket (federation, runs, rounds, updates, models,
// registry), the audit bucket (the trail's records and signed checkpoints, under S3 Object Lock in
// compliance mode) and the access-log bucket, all encrypted, versioned and private.

/**
 * How long each audit record stays locked (compliance mode: no one, the account's root included,
 * can delete or overwrite it before then): `CONSILIUM_AUDIT_RETENTION_YEARS` at deploy time,
 * six years by default (HIPAA §164.316(b)(2) keeps documentation six years).
 */
export const auditRetentionYears = (() => {
  const raw = process.env.CONSILIUM_AUDIT_RETENTION_YEARS ?? "6";
  const years = Number(raw);
  if (!/^\d+$/.test(raw) || years < 1 || years > 100) throw new Error(`CONSILIUM_AUDIT_RETENTION_YEARS must be a whole number of years from 1 to 100, not "${raw}"`);
  return years;
})();

// One customer-managed key for the objects of both buckets, rotated yearly by KMS. The functions
// may use it (infra/policy.ts); its key policy is the account's default (IAM decides). It outlives
// the stage, as the audit records it encrypts do.
export const key = new aws.kms.Key("StateKey", {
  description: `Consilium ${$app.stage}: coordinator state and audit trail`,
  enableKeyRotation: true,
  deletionWindowInDays: 30,
}, { retainOnDelete: true });

// Server access logs of both buckets. S3 delivers them only to a bucket encrypted with S3-managed
// keys, so this one is; the log delivery service writes under logs/.
export const accessLogs = new sst.aws.Bucket("AccessLogs", {
  policy: [{ actions: ["s3:PutObject"], principals: [{ type: "service", identifiers: ["logging.s3.amazonaws.com"] }], paths: ["logs/*"] }],
});
new aws.s3.BucketServerSideEncryptionConfigurationV2("AccessLogsEncryption", {
  bucket: accessLogs.name,
  rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
});

/** A bucket's default encryption under the key (with S3 Bucket Keys: one KMS call per object batch, not per request) and its access logs. */
function encryptAndLog(name: string, bucket: sst.aws.Bucket, retainOnDelete = false) {
  new aws.s3.BucketServerSideEncryptionConfigurationV2(`${name}Encryption`, {
    bucket: bucket.name,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }],
  }, { retainOnDelete });
  new aws.s3.BucketLoggingV2(`${name}Logging`, { bucket: bucket.name, targetBucket: accessLogs.name, targetPrefix: `logs/${name}/` }, { retainOnDelete });
}

// Versioned: an object overwritten or deleted by mistake (or by a compromised function) can be
// recovered; old versions expire after 90 days.
export const bucket = new sst.aws.Bucket("State", { versioning: true });
encryptAndLog("State", bucket);

// Every train task for an update above the multipart threshold opens a multipart upload; a site
// that stops before completing it would leave its parts stored (and billed) for ever. SST's own
// `lifecycle` option has no abort rule, so it is set on the bucket directly.
export const abortIncompleteUploads = new aws.s3.BucketLifecycleConfigurationV2("StateAbortIncompleteUploads", {
  bucket: bucket.name,
  rules: [
    { id: "abort-incomplete-multipart-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 2 } },
    { id: "expire-old-versions", status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays: 90 } },
  ],
});

// The audit trail's records and checkpoints (functions/adapters/audit-routed-store.ts), each
// written once and locked for the retention: Object Lock needs versioning and is enabled when the
// bucket is created. Locking a version does not stop a new one from being put over it, so the
// bucket's policy refuses every PUT that is not conditional (`If-None-Match: *`, which every audit
// write sends): a record, once there, stays the current version. The bucket, its lock, versioning,
// policy, encryption and logging and the key outlive the stage (`sst remove` leaves them: the
// records could not be deleted before their retention anyway, and without the key they could not
// be read); delete them by hand once the retention has passed.
const retained = (_args: unknown, opts: $util.CustomResourceOptions) => {
  opts.retainOnDelete = true;
  return undefined;
};
export const auditBucket = new sst.aws.Bucket("Audit", {
  versioning: true,
  policy: AUDIT_BUCKET_POLICY,
  transform: {
    bucket: (args, opts) => {
      args.objectLockEnabled = true;
      // SST would let `sst remove` empty the bucket first; locked versions cannot be, and the bucket stays.
      args.forceDestroy = false;
      opts.retainOnDelete = true;
      return undefined;
    },
    versioning: retained,
    policy: retained,
    publicAccessBlock: retained,
  },
});
export const auditLock = new aws.s3.BucketObjectLockConfigurationV2("AuditLock", {
  bucket: auditBucket.name,
  rule: { defaultRetention: { mode: "COMPLIANCE", years: auditRetentionYears } },
}, { retainOnDelete: true });
encryptAndLog("Audit", auditBucket, true);
