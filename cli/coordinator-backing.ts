/**
 * @module
 * What `consilium coordinator` keeps its state in: the embedded store in a data folder on this
 * machine, served on the coordinator's own address under `/store`, or S3/SQS endpoints given.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { join } from "node:path";
import { S3ObjectStore } from "../functions/adapters/s3-object-store.ts";
import { SqsJobQueue } from "../functions/adapters/sqs-job-queue.ts";
import type { JobQueue, Logger, ObjectStore } from "../functions/ports.ts";
import { adminTokenFor, type AdminToken } from "./admin-token.ts";
import { StoreDirError } from "./embedded-store/store-dir.ts";
import { startEmbeddedStack } from "./embedded-stack.ts";
import type { HttpListener } from "./http-listener.ts";
import { UsageError } from "./commands/flags.ts";

export interface Backing {
  readonly store: ObjectStore;
  readonly queue: JobQueue;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** For the start line: where the state is. */
  readonly describe: string;
  readonly adminToken: AdminToken;
  /** Warnings for the operator. */
  readonly warnings: readonly string[];
  stop(): Promise<void>;
}

/** S3/SQS endpoints: credentials from the SDK's usual chain; an AWS queue URL's origin is its regional SQS endpoint. */
export async function s3Backing(endpoint: string, bucket: string, queueUrl: string, region: string | undefined, adminToken: string): Promise<Backing> {
  const s3 = new S3Client({ endpoint, region, forcePathStyle: true });
  const sqs = new SQSClient({ endpoint: new URL(queueUrl).origin, region });
  const stop = async () => void (s3.destroy(), sqs.destroy());
  if (!(await s3.config.region().catch(() => ""))) {
    await stop();
    throw new UsageError("--region: required (no region in AWS_REGION or the AWS config)");
  }
  return {
    store: new S3ObjectStore({ client: s3, bucket }), queue: new SqsJobQueue({ client: sqs, queueUrl }), sqs, queueUrl,
    describe: `s3 ${endpoint} bucket ${bucket}`, adminToken: { token: adminToken, origin: "given" }, warnings: [], stop,
  };
}

/** The embedded store in `dataDir`, mounted on `listener`; presigned URLs name `publicUrl`. */
export async function embeddedBacking(o: { dataDir: string; listener: HttpListener; publicUrl: string; logger: Logger; adminToken?: string }): Promise<Backing> {
  const stack = await startEmbeddedStack({ dataDir: o.dataDir, listener: o.listener, publicUrl: o.publicUrl, logger: o.logger }).catch((error: unknown) => {
    if (error instanceof StoreDirError) throw new UsageError(`--data-dir: ${error.message}`);
    throw error;
  });
  try {
    const adminToken = await adminTokenFor(o.adminToken, o.dataDir, join(o.dataDir, "store", "tmp"));
    const warnings = [
      ...(stack.openToOthers ? [`${o.dataDir} is open to other users of this machine: chmod 700 it (it holds the store's key and every model update)`] : []),
      ...stack.skipped.map((s) => `not served: ${s}`),
    ];
    return {
      store: stack.store, queue: stack.queue, sqs: stack.sqs, queueUrl: stack.queueUrl, adminToken, warnings, stop: stack.stop,
      describe: `embedded store in ${o.dataDir}, served at ${stack.endpoint}`,
    };
  } catch (error) {
    await stack.stop();
    throw error instanceof StoreDirError ? new UsageError(`--data-dir: ${error.message}`) : error;
  }
}
