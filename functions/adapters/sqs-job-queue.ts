/**
 * @module
 * The `JobQueue` port on SQS (or the embedded SQS-compatible server).
 */
import { createHash, randomUUID } from "node:crypto";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { JobQueue } from "../ports.ts";

/** The queue `SqsJobQueue` sends to. */
export interface SqsJobQueueOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** FIFO queues only: the ordering group every job joins (default `"consilium"`). */
  readonly messageGroupId?: string;
}

/**
 * Sends jobs to one queue. On a FIFO queue (URL ending in `.fifo`) `dedupeKey` becomes the
 * deduplication id, so a repeated key within SQS's five-minute window is dropped; without a key
 * every send is distinct. A standard queue has no deduplication and ignores the key.
 * @example
 * const jobs = new SqsJobQueue({ client: new SQSClient({}), queueUrl });
 * await jobs.send(JSON.stringify({ type: "aggregate", round: 3 }), "aggregate:3");
 */
export class SqsJobQueue implements JobQueue {
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #groupId: string;

  constructor(options: SqsJobQueueOptions) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
    this.#groupId = options.messageGroupId ?? "consilium";
  }

  async send(body: string, dedupeKey?: string): Promise<void> {
    const fifo = this.#queueUrl.endsWith(".fifo");
    await this.#client.send(new SendMessageCommand({
      QueueUrl: this.#queueUrl,
      MessageBody: body,
      ...(fifo ? { MessageGroupId: this.#groupId, MessageDeduplicationId: dedupeId(dedupeKey) } : {}),
    }));
  }
}

/** SQS accepts at most 128 printable ASCII characters; longer or other keys are hashed. */
function dedupeId(key: string | undefined): string {
  if (key === undefined) return randomUUID();
  return /^[\x21-\x7e]{1,128}$/.test(key) ? key : createHash("sha256").update(key).digest("hex");
}
