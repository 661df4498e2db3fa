/**
 * @module
 * AWS on one machine: the embedded store (S3 and SQS over HTTP, `embedded-store/`) with the bucket,
 * job queue and dead-letter queue that `infra/` creates in production, reached through the same
 * AWS SDK code paths, every request signed with SigV4 and checked.
 *
 * Why a store of our own. fauxqs 1.9.2 (the server used before) keeps all state in memory (its
 * README: "All state is in-memory. No persistence"; its dist writes no file) and lists
 * "Authentication or authorization" among what it does not do; it also ignores If-None-Match on PUT.
 * fauxqs 2.4 (the newest) adds SQLite persistence through `node:sqlite`, which needs Node 22.5
 * (this project supports Node 20), writes file-backed objects in place with writeFileSync (a crash
 * can tear one), and still checks no signature. s3rver 3.7 (npm) is S3 only, with no SQS, and
 * sqslite SQS only; npm's `minio` is a client. Debian has no MinIO, Garage, SeaweedFS, s3proxy or
 * ElasticMQ; its radosgw needs a Ceph cluster. So the store is a small server for exactly the
 * operations the coordinator and the sites send: each object one file committed by fsync and
 * rename (or link, so a conditional write's check and create are one step), each queue message
 * one file, and every request's SigV4 signature checked by the AWS SDK's own signer.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import {
  ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand,
  ReceiveMessageCommand, SQSClient,
} from "@aws-sdk/client-sqs";
import { S3ObjectStore } from "../functions/adapters/s3-object-store.ts";
import { SqsJobQueue } from "../functions/adapters/sqs-job-queue.ts";
import { silentLogger, type Logger } from "../functions/ports.ts";
import type { StoreCredentials } from "./embedded-store/sigv4-check.ts";
import { openStoreDir } from "./embedded-store/store-dir.ts";
import { openStoreServer } from "./embedded-store/store-server.ts";
import { listen, type HttpListener } from "./http-listener.ts";
import { LocalRouteHandler } from "./local-route-handler.ts";

/** Everything is optional: the defaults give a private, throwaway stack on a free loopback port. */
export interface EmbeddedStackOptions {
  /** Loopback port of the stack's own server; 0 (the default) lets the OS pick a free one. Ignored with `listener`. */
  readonly port?: number;
  readonly bucket?: string;
  /** Queue name; a `.fifo` suffix makes it (and its dead-letter queue) FIFO. */
  readonly queue?: string;
  /** Seconds a received job stays hidden before redelivery (default 300, the production handler's timeout). */
  readonly visibilityTimeoutSeconds?: number;
  /** Receives before a job moves to the dead-letter queue (default 3, as `infra/queue.ts`). */
  readonly maxReceiveCount?: number;
  /** Gets one line per request to the server; without it the server is silent. */
  readonly logger?: Logger;
  /**
   * Keeps the store in this folder (created owner-only) across restarts, every write fsynced; one
   * process at a time. Without it, a temp folder removed at stop, written without fsync.
   */
  readonly dataDir?: string;
  /** Serves the store on this server under `/store` (the coordinator's) instead of one of its own. */
  readonly listener?: HttpListener;
  /** The origin that presigned URLs name, as sites reach it (default: the server's own URL). */
  readonly publicUrl?: string;
}

/** A running stack: its address, credentials, SDK clients and the coordinator's ports on top of them. */
export interface EmbeddedStack {
  /** The S3 endpoint as presigned URLs name it (the public origin and base path). */
  readonly endpoint: string;
  readonly region: string;
  /** The store's SigV4 key: for this process's own clients only, never for a site. */
  readonly credentials: StoreCredentials;
  readonly bucket: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly store: S3ObjectStore;
  readonly queue: SqsJobQueue;
  /** Files in the data folder that are not the store's, found at start. */
  readonly skipped: readonly string[];
  /** The data folder was there already with group or world access. */
  readonly openToOthers: boolean;
  /** Closes the server (when its own) and both clients and releases the folder; abort any `receiveJobs` loop first. Safe to call twice. */
  stop(): Promise<void>;
}

const REGION = "us-east-1";

/**
 * Starts the embedded store and creates the bucket, the queue and its dead-letter queue.
 * @example
 * const stack = await startEmbeddedStack({ dataDir: ".consilium/coordinator" });
 * await stack.store.put("federation.json", "{}");
 * await stack.stop();
 */
export async function startEmbeddedStack(options: EmbeddedStackOptions = {}): Promise<EmbeddedStack> {
  const { bucket = "consilium", queue = "consilium-jobs", logger = silentLogger } = options;
  const durable = options.dataDir !== undefined;
  const dataDir = options.dataDir === undefined ? await mkdtemp(join(tmpdir(), "consilium-store-")) : resolve(options.dataDir);
  const dir = await openStoreDir(dataDir, durable).catch(async (error: unknown) => {
    if (!durable) await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  const cleanups: Array<() => Promise<void>> = [dir.release, ...(durable ? [] : [() => rm(dataDir, { recursive: true, force: true })])];
  const cleanUp = async (): Promise<void> => {
    for (const step of cleanups.splice(0).reverse()) await step();
  };
  try {
    const basePath = options.listener ? "/store" : "";
    const server = await openStoreServer({ root: dir.root, credentials: dir.credentials, region: REGION, basePath, durable, logger });
    // This stack's own server listens on loopback only; the coordinator's serves it wherever it listens.
    const listener = options.listener ?? (await listen("127.0.0.1", options.port ?? 0));
    if (!options.listener) cleanups.push(() => listener.close());
    // Undone first: long polls are answered before the server waits for its connections to end.
    cleanups.push(async () => server.close());
    listener.mount(basePath, server.handle);
    const endpoint = `${new URL(options.publicUrl ?? listener.url).origin}${basePath}`;
    const local = new URL(listener.localUrl);
    const s3 = new S3Client({ endpoint, region: REGION, credentials: dir.credentials, forcePathStyle: true, requestHandler: new LocalRouteHandler(local) });
    const sqs = new SQSClient({ endpoint: `${local.origin}${basePath}`, region: REGION, credentials: dir.credentials });
    cleanups.push(async () => void (s3.destroy(), sqs.destroy()));
    const { queueUrl, deadLetterQueueUrl } = await createResources(s3, sqs, bucket, queue, options);
    let stopping: Promise<void> | undefined;
    return {
      endpoint, region: REGION, credentials: dir.credentials, bucket, queueUrl, deadLetterQueueUrl, s3, sqs,
      skipped: server.skipped, openToOthers: dir.openToOthers,
      stop: () => (stopping ??= cleanUp()),
      store: new S3ObjectStore({ client: s3, bucket }),
      queue: new SqsJobQueue({ client: sqs, queueUrl }),
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** The bucket, the queue and its dead-letter queue; creating them again is a no-op. */
async function createResources(s3: S3Client, sqs: SQSClient, bucket: string, queue: string, options: EmbeddedStackOptions) {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const fifo = queue.endsWith(".fifo");
  const fifoAttributes: Record<string, string> = fifo ? { FifoQueue: "true" } : {};
  const dlqName = fifo ? `${queue.slice(0, -5)}-dlq.fifo` : `${queue}-dlq`;
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: dlqName, Attributes: fifoAttributes }));
  const dlqAttributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }));
  const redrive = { deadLetterTargetArn: dlqAttributes.Attributes?.QueueArn, maxReceiveCount: options.maxReceiveCount ?? 3 };
  const main = await sqs.send(new CreateQueueCommand({ QueueName: queue, Attributes: {
    ...fifoAttributes, VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 300), RedrivePolicy: JSON.stringify(redrive),
  } }));
  if (main.QueueUrl === undefined || dlq.QueueUrl === undefined) throw new Error("embedded server returned no queue URL");
  return { queueUrl: main.QueueUrl, deadLetterQueueUrl: dlq.QueueUrl };
}

/** How `receiveJobs` polls and when it stops. */
export interface ReceiveJobsOptions {
  /** Ends the loop; the returned promise resolves once the message in hand is settled. */
  readonly signal: AbortSignal;
  /** Long-poll wait per receive (default 1 s). */
  readonly waitTimeSeconds?: number;
  /** After a handler failure, redeliver after this many seconds instead of the queue's visibility timeout. */
  readonly retryDelaySeconds?: number;
  readonly logger?: Logger;
}

/**
 * Mimics the Lambda SQS trigger on one machine: long-polls the queue, hands each job to
 * `handler` one at a time, deletes it when the handler resolves and leaves it for redelivery
 * (and, past `maxReceiveCount`, the dead-letter queue) when it throws.
 * @example
 * const controller = new AbortController();
 * const loop = receiveJobs(stack.sqs, stack.queueUrl, (body) => runJob(body), { signal: controller.signal });
 * controller.abort();
 * await loop;
 */
export async function receiveJobs(
  sqs: SQSClient, queueUrl: string, handler: (body: string, messageId: string) => Promise<void>, options: ReceiveJobsOptions,
): Promise<void> {
  const { signal, waitTimeSeconds = 1, retryDelaySeconds, logger = silentLogger } = options;
  while (!signal.aborted) {
    const receive = new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: waitTimeSeconds });
    const received = await sqs.send(receive, { abortSignal: signal }).catch(async (error: unknown) => {
      if (signal.aborted) return undefined;
      logger.error("receiving jobs failed; retrying", { error: String(error) });
      await delay(1000, undefined, { signal }).catch(() => undefined);
    });
    for (const { Body = "", MessageId: messageId = "", ReceiptHandle } of received?.Messages ?? []) {
      const at = { QueueUrl: queueUrl, ReceiptHandle };
      // A job whose settling fails simply comes back: jobs are idempotent.
      const settleFailed = (error: unknown): void => logger.error("settling job failed", { messageId, error: String(error) });
      try {
        await handler(Body, messageId);
      } catch (error) {
        logger.warn("job failed; left for redelivery", { messageId, error: String(error) });
        if (retryDelaySeconds !== undefined) await sqs.send(new ChangeMessageVisibilityCommand({ ...at, VisibilityTimeout: retryDelaySeconds })).catch(settleFailed);
        continue;
      }
      await sqs.send(new DeleteMessageCommand(at)).catch(settleFailed);
    }
  }
}
