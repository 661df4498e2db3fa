/**
 * @module
 * The SQS operations the coordinator sends (AWS JSON 1.0 protocol, `X-Amz-Target: AmazonSQS.*`):
 * CreateQueue, GetQueueUrl, GetQueueAttributes, SendMessage, ReceiveMessage (long poll),
 * DeleteMessage and ChangeMessageVisibility. Each body is parsed with its schema.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { ACCOUNT, QUEUE_NAME, QueueAttributes, type QueueEntry, type QueueRegistry } from "./queue-registry.ts";
import type { Message } from "./queue.ts";
import { badRequest, StoreError } from "./store-error.ts";

/** One call: its action, parsed JSON body, and where the caller reached the store (for queue URLs). */
export interface SqsCall {
  readonly action: string;
  readonly body: unknown;
  /** `http://host:port/base`, as the caller addressed the store. */
  readonly endpoint: string;
  readonly region: string;
  /** Ends a long poll when the caller goes away or the store stops. */
  readonly signal: AbortSignal;
}

const QueueUrl = z.object({ QueueUrl: z.string().min(1) });
const Names = z.array(z.string()).max(32).optional();
const Actions = {
  CreateQueue: z.object({ QueueName: z.string(), Attributes: z.record(z.string(), z.string()).optional() }),
  GetQueueUrl: z.object({ QueueName: z.string() }),
  GetQueueAttributes: QueueUrl.extend({ AttributeNames: Names }),
  SendMessage: QueueUrl.extend({
    MessageBody: z.string().min(1).max(262_144),
    DelaySeconds: z.number().int().min(0).max(900).optional(),
    MessageGroupId: z.string().regex(/^[\x21-\x7e]{1,128}$/).optional(),
    MessageDeduplicationId: z.string().regex(/^[\x21-\x7e]{1,128}$/).optional(),
    MessageAttributes: z.record(z.string(), z.unknown()).optional(),
  }),
  ReceiveMessage: QueueUrl.extend({
    MaxNumberOfMessages: z.number().int().min(1).max(10).optional(),
    WaitTimeSeconds: z.number().int().min(0).max(20).optional(),
    VisibilityTimeout: z.number().int().min(0).max(43_200).optional(),
    AttributeNames: Names,
    MessageSystemAttributeNames: Names,
  }),
  DeleteMessage: QueueUrl.extend({ ReceiptHandle: z.string().min(1).max(1024) }),
  ChangeMessageVisibility: QueueUrl.extend({ ReceiptHandle: z.string().min(1).max(1024), VisibilityTimeout: z.number().int().min(0).max(43_200) }),
} as const;
type Action = keyof typeof Actions;

/** Runs one call and answers its JSON result. */
export async function handleSqs(call: SqsCall, queues: QueueRegistry): Promise<Record<string, unknown>> {
  if (!(call.action in Actions)) throw badRequest("InvalidAction", `${call.action} is not supported by the embedded store`);
  const action = call.action as Action;
  const parsed = Actions[action].safeParse(call.body);
  if (!parsed.success) throw badRequest("InvalidParameterValue", `${action}: ${parsed.error.issues[0]?.path.join(".") ?? ""}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  const input = parsed.data;
  const urlOf = (name: string): string => `${call.endpoint}/${ACCOUNT}/${name}`;
  if ("QueueName" in input) {
    if (action === "GetQueueUrl") return { QueueUrl: urlOf(entryNamed(queues, input.QueueName).queue.name) };
    const attributes = QueueAttributes.safeParse("Attributes" in input ? (input.Attributes ?? {}) : {});
    if (!attributes.success) throw badRequest("InvalidAttributeValue", `${attributes.error.issues[0]?.path.join(".") ?? ""}: ${attributes.error.issues[0]?.message ?? "invalid"}`);
    return { QueueUrl: urlOf((await queues.create(input.QueueName, attributes.data)).queue.name) };
  }
  const entry = entryNamed(queues, new URL(input.QueueUrl, "http://x").pathname.split("/").at(-1) ?? "");
  const { queue } = entry;
  switch (action) {
    case "GetQueueAttributes":
      return { Attributes: attributesOf(entry, call.region, "AttributeNames" in input ? (input.AttributeNames ?? []) : []) };
    case "SendMessage": {
      const send = Actions.SendMessage.parse(input);
      if (send.MessageAttributes && Object.keys(send.MessageAttributes).length > 0) throw badRequest("InvalidParameterValue", "message attributes are not supported by the embedded store");
      const m = await queue.send(send.MessageBody, { groupId: send.MessageGroupId, dedupeId: send.MessageDeduplicationId, delaySeconds: send.DelaySeconds });
      // A FIFO duplicate answers the first message's id but, as SQS does, the MD5 of this request's body: the SDK checks it against what it sent.
      const md5 = createHash("md5").update(send.MessageBody).digest("hex");
      return { MessageId: m.id, MD5OfMessageBody: md5, ...(queue.rules.fifo && { SequenceNumber: String(m.seq).padStart(20, "0") }) };
    }
    case "ReceiveMessage": {
      const r = Actions.ReceiveMessage.parse(input);
      const wanted = [...(r.AttributeNames ?? []), ...(r.MessageSystemAttributeNames ?? [])];
      const messages = await queue.receive({ max: r.MaxNumberOfMessages ?? 1, visibilitySeconds: r.VisibilityTimeout, waitSeconds: r.WaitTimeSeconds ?? 0, signal: call.signal });
      return messages.length === 0 ? {} : { Messages: messages.map((m) => messageOut(m, wanted)) };
    }
    case "DeleteMessage":
      await queue.delete(Actions.DeleteMessage.parse(input).ReceiptHandle);
      return {};
    case "ChangeMessageVisibility": {
      const c = Actions.ChangeMessageVisibility.parse(input);
      queue.changeVisibility(c.ReceiptHandle, c.VisibilityTimeout);
      return {};
    }
    default:
      throw badRequest("InvalidAction", `${action} needs a QueueName`);
  }
}

function entryNamed(queues: QueueRegistry, name: string): QueueEntry {
  const entry = QUEUE_NAME.test(name) ? queues.get(name) : undefined;
  if (!entry) throw new StoreError(400, "QueueDoesNotExist", `no queue ${name}`);
  return entry;
}

function attributesOf(entry: QueueEntry, region: string, names: readonly string[]): Record<string, string> {
  const { visible, inFlight } = entry.queue.counts();
  const all: Record<string, string> = {
    QueueArn: `arn:aws:sqs:${region}:${ACCOUNT}:${entry.queue.name}`,
    ApproximateNumberOfMessages: String(visible),
    ApproximateNumberOfMessagesNotVisible: String(inFlight),
    ApproximateNumberOfMessagesDelayed: "0",
    CreatedTimestamp: String(Math.floor(entry.created / 1000)),
    LastModifiedTimestamp: String(Math.floor(entry.created / 1000)),
    VisibilityTimeout: "30",
    DelaySeconds: "0",
    MaximumMessageSize: "262144",
    MessageRetentionPeriod: "345600",
    ReceiveMessageWaitTimeSeconds: "0",
    ...Object.fromEntries(Object.entries(entry.attributes).filter((e): e is [string, string] => e[1] !== undefined)),
  };
  return names.includes("All") ? all : Object.fromEntries(names.flatMap((n) => (all[n] === undefined ? [] : [[n, all[n]]])));
}

function messageOut(m: Message, wanted: readonly string[]): Record<string, unknown> {
  const all = wanted.includes("All");
  const attributes: Record<string, string> = {};
  if (all || wanted.includes("ApproximateReceiveCount")) attributes.ApproximateReceiveCount = String(m.receiveCount);
  if (all || wanted.includes("SentTimestamp")) attributes.SentTimestamp = String(m.sentAt);
  if (m.groupId !== undefined && (all || wanted.includes("MessageGroupId"))) attributes.MessageGroupId = m.groupId;
  return { MessageId: m.id, ReceiptHandle: m.receipt, MD5OfBody: m.md5, Body: m.body, ...(Object.keys(attributes).length > 0 && { Attributes: attributes }) };
}
