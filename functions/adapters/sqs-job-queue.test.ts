import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedStack, type EmbeddedStack } from "../../cli/embedded-stack.ts";
import { SqsJobQueue } from "./sqs-job-queue.ts";

let stack: EmbeddedStack;
let sqs: SQSClient;

beforeAll(async () => {
  stack = await startEmbeddedStack();
  sqs = stack.sqs;
});
afterAll(() => stack.stop());

async function createQueue(name: string): Promise<string> {
  const fifo = name.endsWith(".fifo") ? { FifoQueue: "true" } : undefined;
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: fifo }));
  if (QueueUrl === undefined) throw new Error("no queue URL");
  return QueueUrl;
}

/** Receives and deletes until the queue is empty (a FIFO group yields its next message only after a delete). */
async function receiveAll(queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (Messages.length === 0) return bodies;
    for (const { Body = "", ReceiptHandle } of Messages) {
      bodies.push(Body);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle }));
    }
  }
}

describe("SqsJobQueue (on the embedded store's SQS)", () => {
  it("sends job bodies to a standard queue, ignoring dedupe keys", async () => {
    // Prepare
    const queueUrl = await createQueue("jobs");
    const queue = new SqsJobQueue({ client: sqs, queueUrl });
    // Execute
    await queue.send('{"type":"aggregate","round":1}', "aggregate:1");
    await queue.send('{"type":"aggregate","round":1}', "aggregate:1");
    // Assert
    expect(await receiveAll(queueUrl)).toEqual(['{"type":"aggregate","round":1}', '{"type":"aggregate","round":1}']);
  });

  it("drops a repeated dedupe key on a FIFO queue and keeps keyless sends distinct", async () => {
    // Prepare
    const queueUrl = await createQueue("jobs.fifo");
    const queue = new SqsJobQueue({ client: sqs, queueUrl, messageGroupId: "federation-a" });
    // Execute
    await queue.send("a", "aggregate:1");
    await queue.send("a again", "aggregate:1");
    await queue.send("b");
    await queue.send("b");
    await queue.send("c", `long key ${"x".repeat(200)}`);
    // Assert
    expect(await receiveAll(queueUrl)).toEqual(["a", "b", "b", "c"]);
  });

  it("propagates send failures", async () => {
    const queue = new SqsJobQueue({ client: sqs, queueUrl: `${await createQueue("gone")}-missing` });
    await expect(queue.send("x")).rejects.toMatchObject({ name: "QueueDoesNotExist" });
  });
});
