// What each coordinator function may do, as IAM statements over the stack's ARNs: plain data, so
// that infra/access.ts deploys exactly these and the Lambda harness (test/support/lambda/) holds
// the bundles to them on every S3 and SQS request, presigned ones included (a presigned URL acts
// with its signer's permissions). test/infra-policy.test.ts checks what infra/* deploys.
//
// - State bucket objects: read, write (conditional writes, presigned PUTs, multipart uploads and
//   their abort), the aggregate job only where it writes (AGGREGATE_WRITES); delete only for the functions whose use cases delete (the API: a manifest
//   written before its update was admitted, a replaced secure-aggregation message, a statistics
//   failure, a drift exclusion; the cron: a statistics failure; the relay: its region's API's).
//   The aggregate job deletes nothing.
// - Credentials: the jobs (aggregate, cron, relay) may not write or delete site records, site
//   credentials, revocations, operators or secure-aggregation identities — an explicit deny, so
//   that no later grant can give it to them; only the API enrols, rotates, revokes and adds.
// - Audit bucket (Object Lock): read and create records and checkpoints; no delete for anyone.
// - The customer-managed key: encrypt and decrypt the objects of both buckets.
// - Jobs queue: send (the API at quorum, the cron at a deadline, the aggregate job for the next
//   round); the aggregate job's subscription adds receive and delete on its own.
import type { FunctionName } from "./functions.ts";

export interface PolicyArns<R> {
  readonly state: R;
  readonly audit: R;
  readonly jobs: R;
  readonly key: R;
}

export interface Statement<R> {
  readonly effect?: "allow" | "deny";
  readonly actions: string[];
  readonly resources: R[];
}

/** State-bucket prefixes that only the API writes. */
export const CREDENTIAL_PREFIXES = ["sites/", "site-credentials/", "revoked/", "operators/", "operators-revoked/", "identities/"];

const DELETES: Record<FunctionName, boolean> = { Api: true, CloseRounds: true, RegionRelay: true, Aggregate: false };

/**
 * Where the aggregate job writes in the state bucket: under `runs/` (a run's keys; IAM cannot tell
 * a run's rounds and models from its federation, preprocessing or statistics beside them), the
 * rounds, round summaries, models, state, an abandoned run's mark and the round records under `audit/` of a store
 * from before runs (the trail's head hint beside them), and refusals (`rejections/`, `failures/`).
 * Not the registry, the consortium's agreement, runs and triggers, sites, credentials, operators,
 * or the validation set: the API and the cron write those.
 */
export const AGGREGATE_WRITES = ["runs/*", "rounds/*", "summaries/*", "models/*", "state.json", "abandoned.json", "audit/*", "rejections/*", "failures/*"];

/** The statements of function `name`; `sub(arn, "/suffix")` joins an ARN and a suffix in the caller's type (a string, or SST's Output). */
export function functionPolicy<R>(name: FunctionName, arns: PolicyArns<R>, sub: (arn: R, suffix: string) => R): Statement<R>[] {
  const writes = ["s3:PutObject", "s3:AbortMultipartUpload", ...(DELETES[name] ? ["s3:DeleteObject"] : [])];
  const objects: Statement<R>[] = name === "Aggregate"
    ? [{ actions: ["s3:GetObject"], resources: [sub(arns.state, "/*")] }, { actions: writes, resources: AGGREGATE_WRITES.map((p) => sub(arns.state, `/${p}`)) }]
    : [{ actions: ["s3:GetObject", ...writes], resources: [sub(arns.state, "/*")] }];
  const statements: Statement<R>[] = [
    ...objects,
    { actions: ["s3:ListBucket"], resources: [arns.state] },
    { actions: ["s3:GetObject", "s3:PutObject"], resources: [sub(arns.audit, "/audit/*")] },
    { actions: ["s3:ListBucket"], resources: [arns.audit] },
    { actions: ["kms:Decrypt", "kms:GenerateDataKey"], resources: [arns.key] },
    { actions: ["sqs:SendMessage"], resources: [arns.jobs] },
  ];
  if (name !== "Api") statements.push({ effect: "deny", actions: ["s3:PutObject", "s3:DeleteObject"], resources: CREDENTIAL_PREFIXES.map((p) => sub(arns.state, `/${p}*`)) });
  return statements;
}

/** A bucket policy's statement, as SST's Bucket takes it: `paths` under the bucket, a principal for everyone. */
export interface BucketStatement {
  readonly effect: "allow" | "deny";
  readonly actions: string[];
  readonly principals: "*";
  readonly paths: string[];
  readonly conditions: { readonly test: string; readonly variable: string; readonly values: string[] }[];
}

/**
 * The audit bucket's policy: a PUT without `If-None-Match` is refused, whoever sends it. Object
 * Lock keeps a version from being deleted or overwritten, not a new version from being put over it;
 * with this, a record once written stays the current one. Every audit write is conditional.
 */
export const AUDIT_BUCKET_POLICY: BucketStatement[] = [
  { effect: "deny", actions: ["s3:PutObject"], principals: "*", paths: ["*"], conditions: [{ test: "Null", variable: "s3:if-none-match", values: ["true"] }] },
];
