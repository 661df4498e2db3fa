/**
 * @module
 * AWS on one machine: fauxqs (an S3/SQS-compatible server) in-process on loopback, with the
 * bucket, job queue and dead-letter queue that `infra/` creates in production, reached through
 * the same AWS SDK code paths.
 */
import { setTimeout as delay } from "node:timers/promises";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import {
  ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand,
  ReceiveMessageCommand, SQSClient,
} from "@aws-sdk/client-sqs";
import { buildApp } from "fauxqs";
import { S3ObjectStore } from "../functions/adapters/s3-object-store.ts";
import { SqsJobQueue } from "../functions/adapters/sqs-job-queue.ts";
import { silentLogger, type Logger } from "../functions/ports.ts";

/** Everything is optional: the defaults give a private stack on a free loopback port. */
export interface EmbeddedStackOptions {
  /** Loopback port; 0 (the default) lets the OS pick a free one. */
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
}

/** A running stack: its address, dummy credentials, SDK clients and the coordinator's ports on top of them. */
export interface EmbeddedStack {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly bucket: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly store: S3ObjectStore;
  readonly queue: SqsJobQueue;
  /** Closes the server and both clients; abort any `receiveJobs` loop first. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the embedded server and creates the bucket, the queue and its dead-letter queue.
 * @example
 * const stack = await startEmbeddedStack();
 * await stack.store.put("federation.json", "{}");
 * await stack.stop();
 */
export async function startEmbeddedStack(options: EmbeddedStackOptions = {}): Promise<EmbeddedStack> {
  const { bucket = "consilium", queue = "consilium-jobs", logger } = options;
  const app = buildApp({ logger: false });
  if (logger) {
    app.addHook("onResponse", async (request, reply) => {
      // The path only: a presigned URL's query string is a bearer credential.
      logger.info("embedded stack request", { method: request.method, path: request.url.split("?")[0], status: reply.statusCode });
    });
  }
  // fauxqs's own startFauxqs() listens on 0.0.0.0; this server holds model updates, so loopback only.
  const endpoint = await app.listen({ host: "127.0.0.1", port: options.port ?? 0 }).catch(async (error: unknown) => {
    await app.close();
    throw error;
  });
  const region = "us-east-1";
  const credentials = { accessKeyId: "consilium", secretAccessKey: "consilium" };
  const s3 = new S3Client({ endpoint, region, credentials, forcePathStyle: true });
  const sqs = new SQSClient({ endpoint, region, credentials });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= app.close().then(() => {
    s3.destroy();
    sqs.destroy();
  }));
  try {
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
    return {
      endpoint, region, credentials, bucket, queueUrl: main.QueueUrl, deadLetterQueueUrl: dlq.QueueUrl, s3, sqs, stop,
      // fauxqs 1.9 ignores If-None-Match on PUT; see S3ObjectStoreOptions.emulateIfNoneMatch for the remaining race.
      store: new S3ObjectStore({ client: s3, bucket, emulateIfNoneMatch: true }),
      queue: new SqsJobQueue({ client: sqs, queueUrl: main.QueueUrl }),
    };
  } catch (error) {
    await stop();
    throw error;
  }
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
