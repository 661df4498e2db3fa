/**
 * @module
 * The store's SQS queues, one folder each with its attributes in `queue.json`. CreateQueue is
 * idempotent for the same attributes and refused (`QueueAlreadyExists`) for others, as on SQS.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ensureDir, readJsonFile, writeFileAtomic } from "./durable-file.ts";
import { Queue, type QueueRules } from "./queue.ts";
import { badRequest } from "./store-error.ts";

export const QUEUE_NAME = /^[A-Za-z0-9_-]{1,75}(\.fifo)?$/;
export const ACCOUNT = "000000000000";

const seconds = (max: number) => z.string().regex(/^\d{1,6}$/, "expected whole seconds").refine((v) => Number(v) <= max, `expected at most ${max}`);
const RedrivePolicy = z.object({ deadLetterTargetArn: z.string().regex(/^arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$/), maxReceiveCount: z.coerce.number().int().min(1).max(1000) });

/** The attributes CreateQueue takes here; others are refused by name. */
export const QueueAttributes = z.strictObject({
  VisibilityTimeout: seconds(43_200).optional(),
  DelaySeconds: seconds(900).optional(),
  MessageRetentionPeriod: seconds(1_209_600).optional(),
  ReceiveMessageWaitTimeSeconds: seconds(20).optional(),
  MaximumMessageSize: z.string().regex(/^\d{1,7}$/).optional(),
  FifoQueue: z.enum(["true", "false"]).optional(),
  ContentBasedDeduplication: z.enum(["true", "false"]).optional(),
  RedrivePolicy: z.string().refine((text) => {
    try {
      return RedrivePolicy.safeParse(JSON.parse(text)).success;
    } catch {
      return false;
    }
  }, "expected {deadLetterTargetArn, maxReceiveCount}").optional(),
});
export type QueueAttributes = z.infer<typeof QueueAttributes>;

const QueueFile = z.object({ attributes: QueueAttributes, created: z.number().int() });

/** A queue and what GetQueueAttributes reports of it beyond its counts. */
export interface QueueEntry {
  readonly queue: Queue;
  readonly attributes: QueueAttributes;
  readonly created: number;
}

export class QueueRegistry {
  readonly #queues = new Map<string, QueueEntry>();

  private constructor(private readonly root: string, private readonly tmpDir: string, private readonly durable: boolean) {}

  static async open(root: string, tmpDir: string, durable: boolean): Promise<QueueRegistry> {
    const registry = new QueueRegistry(root, tmpDir, durable);
    await ensureDir(root, durable);
    for (const name of await readdir(root)) {
      if (!QUEUE_NAME.test(name)) continue;
      const file = QueueFile.safeParse(await readJsonFile(join(root, name, "queue.json")));
      if (file.success) await registry.#load(name, file.data.attributes, file.data.created);
    }
    return registry;
  }

  get(name: string): QueueEntry | undefined {
    return this.#queues.get(name);
  }

  async create(name: string, attributes: QueueAttributes): Promise<QueueEntry> {
    if (!QUEUE_NAME.test(name)) throw badRequest("InvalidParameterValue", "queue names are up to 80 letters, digits, hyphens and underscores, FIFO ones ending in .fifo");
    if ((attributes.FifoQueue === "true") !== name.endsWith(".fifo")) throw badRequest("InvalidParameterValue", "a FIFO queue's name ends in .fifo, and only a FIFO queue's");
    const existing = this.#queues.get(name);
    if (existing) {
      if (JSON.stringify(sorted(existing.attributes)) !== JSON.stringify(sorted(attributes))) throw badRequest("QueueAlreadyExists", `queue ${name} exists with other attributes`);
      return existing;
    }
    const created = Date.now();
    await ensureDir(join(this.root, name), this.durable);
    await writeFileAtomic(this.tmpDir, join(this.root, name, "queue.json"), Buffer.from(JSON.stringify({ attributes, created })), { durable: this.durable });
    return this.#load(name, attributes, created);
  }

  /** Ends every long poll. */
  close(): void {
    for (const entry of this.#queues.values()) entry.queue.close();
  }

  async #load(name: string, attributes: QueueAttributes, created: number): Promise<QueueEntry> {
    const queue = await Queue.open(name, join(this.root, name), this.tmpDir, this.durable, this.#rules(attributes));
    const entry = { queue, attributes, created };
    this.#queues.set(name, entry);
    return entry;
  }

  #rules(attributes: QueueAttributes): QueueRules {
    const policy = attributes.RedrivePolicy === undefined ? undefined : RedrivePolicy.parse(JSON.parse(attributes.RedrivePolicy));
    const target = policy?.deadLetterTargetArn.split(":").at(-1) ?? "";
    return {
      visibilitySeconds: Number(attributes.VisibilityTimeout ?? 30),
      fifo: attributes.FifoQueue === "true",
      contentDedupe: attributes.ContentBasedDeduplication === "true",
      ...(policy && { redrive: { maxReceiveCount: policy.maxReceiveCount, target: () => this.#queues.get(target)?.queue } }),
    };
  }
}

function sorted(attributes: QueueAttributes): [string, string][] {
  return Object.entries(attributes).filter((e): e is [string, string] => e[1] !== undefined).sort(([a], [b]) => a.localeCompare(b));
}
