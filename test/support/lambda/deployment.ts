/**
 * @module
 * The deployed stack on one machine: the bundles `scripts/build-lambda.ts` builds, run in the
 * Lambda harness with the memory, timeouts, secrets and queue settings of `infra/functions.ts`,
 * against the embedded S3/SQS store, triggered as in AWS (Function URL, SQS event source mapping,
 * schedule). Each function's environment is what SST and Lambda give it: `SST_RESOURCE_State` /
 * `SST_RESOURCE_Jobs` (infra/access.ts), its linked secrets in an encrypted `resource.enc` next to
 * the bundle with `SST_KEY` / `SST_KEY_FILE` (as SST writes them), the execution role's keys and
 * the region; the one addition is the store's endpoint (`AWS_ENDPOINT_URL_S3` / `_SQS`, which the
 * AWS SDK reads), where in AWS the SDK finds the service on its own.
 */
import { createCipheriv, randomBytes } from "node:crypto";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { AdminClient } from "../../../client/admin-client.ts";
import { startEmbeddedStack, type EmbeddedStack } from "../../../cli/embedded-stack.ts";
import { FUNCTIONS, JOBS, type FunctionName } from "../../../infra/functions.ts";
import { AUDIT_BUCKET_POLICY, functionPolicy, type Statement } from "../../../infra/policy.ts";
import { withAuditStore } from "../../../functions/adapters/audit-routed-store.ts";
import { S3ObjectStore } from "../../../functions/adapters/s3-object-store.ts";
import type { ObjectStore } from "../../../functions/ports.ts";
import { buildLambdas, type BuiltFunction } from "../../../scripts/build-lambda.ts";
import { startFunctionUrl, startQueueTrigger, startSchedule, type QueueTriggerStats } from "./event-sources.ts";
import { LambdaHarness, type HarnessOptions } from "./harness.ts";
import { startIamProxy, type IamProxy } from "./iam-proxy.ts";

export interface LambdaDeploymentOptions extends HarnessOptions {
  /** Bundles already built (`buildLambdas`); built afresh into a temp folder when absent. */
  readonly built?: Record<FunctionName, BuiltFunction>;
  /** The cron's period: `rate(1 minute)` deployed, shorter here. Default 500 ms. */
  readonly cronMs?: number;
  /** Seconds a received job stays hidden before redelivery (deployed: `JOBS.visibilityTimeoutSeconds`). Default 5. */
  readonly visibilityTimeoutSeconds?: number;
  /** Records per aggregate invocation (deployed: `JOBS.batchSize`). */
  readonly batchSize?: number;
  /** `CONSILIUM_POLL_MS` of the functions: how long sites wait between asks. Default 100. */
  readonly pollMs?: number;
  /** Functions' memory and timeout instead of `infra/functions.ts`'s (to show a limit is enforced). */
  readonly limits?: Partial<Record<FunctionName, { memoryMb?: number; timeoutSeconds?: number }>>;
  /**
   * A regional stage (infra/relay.ts): the region's name (the stage), the global coordinator's URL
   * (`CONSILIUM_UPSTREAM_URL`) and the relay's site credential there (the `UpstreamToken` secret).
   * The stage then also runs `RegionRelay` on its schedule.
   */
  readonly upstream?: { readonly region: string; readonly url: string; readonly token: string };
}

/** The audit bucket's name in the harness (deployed: SST names it). */
export const AUDIT_BUCKET = "consilium-audit";

export interface LambdaDeployment {
  readonly url: string;
  readonly admin: AdminClient;
  readonly adminToken: string;
  /** The Ed25519 seed (the `AuditKey` secret) the functions sign the audit trail's checkpoints with. */
  readonly auditSeedHex: string;
  /** The embedded store; its `store` is the coordinator's view (the state bucket, the audit trail in the audit bucket). */
  readonly stack: Omit<EmbeddedStack, "store"> & { readonly store: ObjectStore };
  /** The audit bucket alone. */
  readonly auditStore: ObjectStore;
  readonly harness: LambdaHarness;
  /** Each function's IAM proxy: what it was allowed to do, by action. */
  readonly iam: Readonly<Record<string, IamProxy>>;
  readonly jobs: QueueTriggerStats;
  readonly built: Record<FunctionName, BuiltFunction>;
  /** A regional stage's relay: settles when one of its scheduled runs ends with the global run done, rejects when one fails. */
  readonly relayDone?: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The bundles copied into folders of their own under `root`: one stage's deployment writes its
 * secrets next to each bundle (as Lambda holds them), so stages running side by side (a global and
 * its regions) each need their own copy.
 */
export async function stageBundles(built: Record<FunctionName, BuiltFunction>, root: string): Promise<Record<FunctionName, BuiltFunction>> {
  const dir = await mkdtemp(join(root, "stage-"));
  return Object.fromEntries(await Promise.all(Object.entries(built).map(async ([name, f]) => {
    const own = join(dir, name);
    await cp(f.dir, own, { recursive: true });
    return [name, { ...f, dir: own }];
  }))) as Record<FunctionName, BuiltFunction>;
}

/** SST's encrypted file of a function's linked resources: AES-256-GCM, a zero nonce, the tag appended. */
export function sstResourceFile(resources: Record<string, unknown>, key: Buffer): Buffer {
  const cipher = createCipheriv("aes-256-gcm", key, Buffer.alloc(12, 0));
  const body = Buffer.concat([cipher.update(JSON.stringify(resources), "utf8"), cipher.final()]);
  return Buffer.concat([body, cipher.getAuthTag()]);
}

/** Starts the stack: store, bundles in the harness, and their triggers. The Function URL is `url`. */
export async function startLambdaDeployment(o: LambdaDeploymentOptions = {}): Promise<LambdaDeployment> {
  const buildDir = o.built ? null : await mkdtemp(join(tmpdir(), "consilium-lambda-"));
  const built = o.built ?? (await buildLambdas(buildDir!));
  const stack = await startEmbeddedStack({ visibilityTimeoutSeconds: o.visibilityTimeoutSeconds ?? 5, maxReceiveCount: JOBS.maxReceives });
  const adminToken = randomBytes(24).toString("base64url");
  const auditSeedHex = randomBytes(32).toString("hex");
  const secretValues: Record<string, string> = { AdminToken: adminToken, AuditKey: auditSeedHex, ...(o.upstream && { UpstreamToken: o.upstream.token }) };
  const { Attributes } = await stack.sqs.send(new GetQueueAttributesCommand({ QueueUrl: stack.queueUrl, AttributeNames: ["QueueArn"] }));
  const queueArn = Attributes?.QueueArn ?? "";
  await stack.s3.send(new CreateBucketCommand({ Bucket: AUDIT_BUCKET }));
  const auditStore = new S3ObjectStore({ client: stack.s3, bucket: AUDIT_BUCKET });
  const arns = { state: `arn:aws:s3:::${stack.bucket}`, audit: `arn:aws:s3:::${AUDIT_BUCKET}`, jobs: queueArn, key: `arn:aws:kms:${stack.region}:000000000000:key/harness` };
  const names: FunctionName[] = ["Api", "Aggregate", "CloseRounds", ...(o.upstream ? (["RegionRelay"] as const) : [])];
  // The proxies' refusals are broken limits of the run like any other: they go to the harness's violations once it exists.
  let violations: string[] = [];
  const iam: Record<string, IamProxy> = {};
  for (const name of names) {
    iam[name] = await startIamProxy({
      name, target: new URL(stack.endpoint), statements: functionPolicy<string>(name, arns, (arn, suffix) => `${arn}${suffix}`) as Statement<string>[],
      queues: new Map([[stack.queueUrl, queueArn], [stack.deadLetterQueueUrl, `${queueArn}-dlq`]]), onViolation: (m) => violations.push(m),
      bucketPolicies: new Map([[arns.audit, AUDIT_BUCKET_POLICY]]),
    });
  }
  const functions = await Promise.all(names.map(async (name) => {
    const f = built[name];
    const key = randomBytes(32);
    // infra/relay.ts links the relay to the UpstreamToken secret besides its own.
    const secrets = [...FUNCTIONS[name].secrets, ...(name === "RegionRelay" ? ["UpstreamToken"] : [])];
    const linked = Object.fromEntries(secrets.map((s) => [s, { type: "sst.sst.Secret", value: secretValues[s] }]));
    await writeFile(join(f.dir, "resource.enc"), sstResourceFile(linked, key));
    const limits = { memoryMb: FUNCTIONS[name].memoryMb, timeoutSeconds: FUNCTIONS[name].timeoutSeconds, ...o.limits?.[name] };
    return {
      name, dir: f.dir, file: f.file, exportName: f.exportName, ...limits,
      env: {
        SST_RESOURCE_App: JSON.stringify({ name: "consilium", stage: "harness" }),
        SST_RESOURCE_State: JSON.stringify({ name: stack.bucket }),
        SST_RESOURCE_Jobs: JSON.stringify({ url: stack.queueUrl }),
        SST_RESOURCE_Audit: JSON.stringify({ name: AUDIT_BUCKET }),
        SST_KEY: key.toString("base64"),
        SST_KEY_FILE: "resource.enc",
        AWS_REGION: stack.region,
        AWS_DEFAULT_REGION: stack.region,
        AWS_ACCESS_KEY_ID: stack.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: stack.credentials.secretAccessKey,
        AWS_LAMBDA_FUNCTION_NAME: name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(limits.memoryMb),
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
        LAMBDA_TASK_ROOT: f.dir,
        TZ: ":UTC",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        // The function's IAM proxy in front of the store: every call, and every URL it presigns, held to its policy.
        AWS_ENDPOINT_URL_S3: iam[name]!.url,
        AWS_ENDPOINT_URL_SQS: iam[name]!.url,
        CONSILIUM_POLL_MS: String(o.pollMs ?? 100),
        ...(name === "RegionRelay" && o.upstream && { CONSILIUM_UPSTREAM_URL: o.upstream.url, CONSILIUM_REGION: o.upstream.region }),
      },
    };
  }));
  const harness = new LambdaHarness(functions, o);
  harness.violations.push(...violations);
  violations = harness.violations;
  const controller = new AbortController();
  const functionUrl = await startFunctionUrl(harness, "Api");
  const trigger = startQueueTrigger(harness, "Aggregate", {
    sqs: stack.sqs, queueUrl: stack.queueUrl, queueArn, region: stack.region, batchSize: o.batchSize ?? JOBS.batchSize, signal: controller.signal,
  });
  const cron = startSchedule(harness, "CloseRounds", o.cronMs ?? 500, stack.region, controller.signal);
  const relay = o.upstream ? relaySchedule(harness, o.cronMs ?? 500, stack.region, controller.signal) : undefined;
  let stopping: Promise<void> | undefined;
  return {
    url: functionUrl.url, admin: new AdminClient(functionUrl.url, adminToken), adminToken, auditSeedHex, harness, iam, jobs: trigger.stats, built,
    ...(relay && { relayDone: relay.done }),
    stack: { ...stack, store: withAuditStore(stack.store, auditStore) }, auditStore,
    stop: () => (stopping ??= (async () => {
      controller.abort();
      await Promise.allSettled([trigger.done, cron, relay?.stopped]);
      await functionUrl.close();
      await harness.stop();
      await Promise.all(Object.values(iam).map((p) => p.close()));
      await stack.stop();
      if (buildDir) await rm(buildDir, { recursive: true, force: true });
    })()),
  };
}

/**
 * The relay's schedule (deployed: `rate(1 minute)`, one run at a time, each taking relay steps for
 * up to 45 s): `done` settles when a run reports the global run done, and rejects when a run fails
 * (the relay keeps no state of its own, so a failed run is a broken stage, not a retry).
 */
function relaySchedule(harness: LambdaHarness, everyMs: number, region: string, signal: AbortSignal): { done: Promise<void>; stopped: Promise<void> } {
  let settle!: { resolve: () => void; reject: (e: Error) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  // The harness's caller may never wait on it (a run stopped early): its rejection is theirs to see, not an unhandled one.
  done.catch(() => undefined);
  const stopped = startSchedule(harness, "RegionRelay", everyMs, region, signal, (result) => {
    if (!result.ok) settle.reject(new Error(`RegionRelay failed: ${result.errorType}: ${result.errorMessage}`));
    else if ((result.payload as { last?: unknown } | null)?.last === "done") settle.resolve();
    return result.ok && (result.payload as { last?: unknown } | null)?.last !== "done";
  });
  // However the schedule ends (stopped, or its loop failing), a relay not done by then never will be.
  const ended = (err?: unknown) => settle.reject(err instanceof Error ? err : new Error("the stage stopped before its relay was done"));
  void stopped.then(() => ended(), ended);
  return { done, stopped };
}
