import { createServer } from "node:net";
import { ChangeMessageVisibilityCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Logger } from "../functions/ports.ts";
import { receiveJobs, startEmbeddedStack, type EmbeddedStack } from "./embedded-stack.ts";

const MiB = 1024 * 1024;

async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }));
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

/** The receipt handle of every message the client receives, in order: what SQS gives the consumer to settle it. */
function keepReceipts(client: SQSClient, receipts: string[]): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const output = result.output as { Messages?: Array<{ ReceiptHandle?: string }> };
      for (const m of output.Messages ?? []) if (m.ReceiptHandle) receipts.push(m.ReceiptHandle);
      return result;
    },
    { step: "initialize", name: "keepReceipts" },
  );
}

/** A client of the stack that reports each command as it is sent and how it ended. */
function watchedClient(stack: EmbeddedStack, events: string[], onSend: (command: string) => void = () => {}): SQSClient {
  const client = new SQSClient({ endpoint: stack.endpoint, region: stack.region, credentials: stack.credentials });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? "command";
      onSend(command);
      try {
        const result = await next(args);
        events.push(`${command} answered`);
        return result;
      } catch (error) {
        events.push(`${command} ${error instanceof Error ? error.name : "failed"}`);
        throw error;
      }
    },
    { step: "initialize", name: "watch" },
  );
  return client;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

describe("startEmbeddedStack: storage", () => {
  let stack: EmbeddedStack;
  beforeAll(async () => {
    stack = await startEmbeddedStack();
  });
  afterAll(() => stack.stop());

  it("listens on loopback with the bucket, the queue and a redrive policy to its dead-letter queue", async () => {
    const { Attributes = {} } = await stack.sqs.send(new GetQueueAttributesCommand({ QueueUrl: stack.queueUrl, AttributeNames: ["All"] }));
    expect(stack.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack).toMatchObject({ region: "us-east-1", bucket: "consilium" });
    expect(stack.queueUrl).toMatch(/\/consilium-jobs$/);
    expect(stack.deadLetterQueueUrl).toMatch(/\/consilium-jobs-dlq$/);
    expect(JSON.parse(Attributes.RedrivePolicy ?? "{}")).toEqual({ deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:consilium-jobs-dlq", maxReceiveCount: 3 });
    expect(Attributes.VisibilityTimeout).toBe("300");
  });

  it("round-trips objects through the store, including a 12 MiB one", async () => {
    // Prepare
    const big = new Uint8Array(12 * MiB).fill(7);
    // Execute
    await stack.store.put("models/1/manifest.json", "{}");
    await stack.store.put("models/1/weights.bin", big);
    // Assert
    expect(await stack.store.list("models/")).toEqual(["models/1/manifest.json", "models/1/weights.bin"]);
    expect(Buffer.from((await stack.store.get("models/1/weights.bin")) ?? []).equals(big)).toBe(true);
    await stack.store.delete("models/1/weights.bin");
    expect(await stack.store.head("models/1/weights.bin")).toBeNull();
  });

  it("honours ifAbsent through the store (If-None-Match on the server: one of concurrent writers wins)", async () => {
    const results = await Promise.all([1, 2, 3].map((i) => stack.store.put("rounds/1/round.json", `${i}`, { ifAbsent: true })));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("accepts a presigned PUT and serves a presigned GET through plain fetch", async () => {
    // Prepare
    const body = new TextEncoder().encode("masked delta bytes");
    const putUrl = await stack.store.presignPut("rounds/2/updates/site-a.bin", 60, body.length);
    // Execute
    const put = await fetch(putUrl, { method: "PUT", body });
    const got = await fetch(await stack.store.presignGet("rounds/2/updates/site-a.bin", 60));
    // Assert
    expect(put.status).toBe(200);
    expect(got.status).toBe(200);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(body);
  });

  it("refuses a presigned PUT whose unsigned Content-Type is longer than an object's record keeps, and writes nothing", async () => {
    const body = new TextEncoder().encode("bytes");
    const key = "rounds/2/updates/site-long-type.bin";
    const put = await fetch(await stack.store.presignPut(key, 60, body.length), { method: "PUT", body, headers: { "content-type": `application/${"x".repeat(300)}` } });
    expect(put.status).toBe(400);
    expect(await stack.store.get(key)).toBeNull();
  });

  it("completes a multipart upload of part PUTs sent through plain fetch, which write-once writes then respect", async () => {
    // Prepare: 11 MiB + 1 byte in two parts of at most 8 MiB, the part size the runners use.
    const body = new Uint8Array(11 * MiB + 1).fill(3);
    const { uploadId, parts } = await stack.store.presignMultipart("rounds/4/updates/site-c.bin", 60, body.length, 8 * MiB);
    const etags = [];
    for (const { partNumber, url } of parts) {
      const res = await fetch(url, { method: "PUT", body: body.subarray((partNumber - 1) * 8 * MiB, partNumber * 8 * MiB) });
      etags.push({ partNumber, etag: res.headers.get("etag") ?? "" });
    }
    // Execute
    await stack.store.completeMultipart("rounds/4/updates/site-c.bin", uploadId, etags);
    const overwrite = await stack.store.put("rounds/4/updates/site-c.bin", "x", { ifAbsent: true });
    // Assert
    expect(etags.map((p) => p.etag)).toEqual([expect.stringMatching(/^"[0-9a-f]{32}"$/), expect.stringMatching(/^"[0-9a-f]{32}"$/)]);
    expect(overwrite).toBe(false);
    expect(Buffer.from((await stack.store.get("rounds/4/updates/site-c.bin")) ?? []).equals(body)).toBe(true);
  });

  it("refuses with 403 what its key did not sign: a body longer than the signed Content-Length, a forged or expired URL", async () => {
    // Prepare
    const url = await stack.store.presignPut("rounds/3/updates/site-b.bin", 60, 5);
    const forged = url.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${"0".repeat(64)}`);
    const expired = url.replace(/X-Amz-Date=\w+/, "X-Amz-Date=20000101T000000Z");
    // Execute
    const statuses = await Promise.all([
      fetch(url, { method: "PUT", body: "longer than five bytes" }),
      fetch(forged, { method: "PUT", body: "12345" }),
      fetch(expired, { method: "PUT", body: "12345" }),
      fetch(url, { method: "PUT", body: "12345" }),
    ].map(async (response) => (await response).status));
    // Assert
    expect(statuses).toEqual([403, 403, 403, 200]);
  });
});

describe("receiveJobs", () => {
  let stack: EmbeddedStack;
  // The default 5-minute visibility timeout: a failed job stays hidden until a test makes it visible.
  beforeAll(async () => {
    stack = await startEmbeddedStack();
  });
  afterAll(() => stack.stop());

  it("hands each job to the handler and deletes it on success", async () => {
    // Prepare
    const controller = new AbortController();
    const seen: Array<[string, string]> = [];
    const loop = receiveJobs(stack.sqs, stack.queueUrl, async (body, id) => {
      seen.push([body, id]);
      if (seen.length === 2) controller.abort();
    }, { signal: controller.signal });
    // Execute
    await stack.queue.send('{"type":"aggregate","round":1}');
    await stack.queue.send('{"type":"aggregate","round":2}');
    await loop;
    // Assert
    expect(seen.map(([body]) => body)).toEqual(['{"type":"aggregate","round":1}', '{"type":"aggregate","round":2}']);
    expect(seen[0]?.[1]).toMatch(/\S/);
    expect(await queueDepth(stack.sqs, stack.queueUrl)).toBe(0);
  });

  it("leaves a failed job hidden until its visibility timeout ends, then hands it over again", async () => {
    // Prepare: the first attempt fails and stops its loop.
    const failing = new AbortController();
    const attempts: string[] = [];
    const receipts: string[] = [];
    const consumer = new SQSClient({ endpoint: new URL(stack.queueUrl).origin, region: stack.region, credentials: stack.credentials });
    keepReceipts(consumer, receipts);
    const first = receiveJobs(consumer, stack.queueUrl, async (_body, id) => {
      attempts.push(id);
      failing.abort();
      throw new Error("transient");
    }, { signal: failing.signal });
    await stack.queue.send("job");
    await first;
    // Execute
    const whileHidden = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.queueUrl, WaitTimeSeconds: 0 }));
    const depthWhileHidden = await queueDepth(stack.sqs, stack.queueUrl);
    // The timeout ends now rather than in five minutes: SQS's own step, taken by the test.
    await stack.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: stack.queueUrl, ReceiptHandle: receipts[0], VisibilityTimeout: 0 }));
    const succeeding = new AbortController();
    await receiveJobs(consumer, stack.queueUrl, async (_body, id) => {
      attempts.push(id);
      succeeding.abort();
    }, { signal: succeeding.signal });
    consumer.destroy();
    // Assert
    expect(whileHidden.Messages ?? []).toEqual([]);
    expect(depthWhileHidden).toBe(1);
    expect(receipts).toHaveLength(2);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]).toBe(attempts[0]);
    expect(await queueDepth(stack.sqs, stack.queueUrl)).toBe(0);
  });

  it("moves a job that keeps failing to the dead-letter queue after maxReceiveCount receives", async () => {
    // Prepare
    const controller = new AbortController();
    const warnings: string[] = [];
    const logger: Logger = { info() {}, warn: (message) => warnings.push(message), error() {} };
    let attempts = 0;
    const loop = receiveJobs(stack.sqs, stack.queueUrl, async () => {
      attempts++;
      throw new Error("poison");
    }, { signal: controller.signal, retryDelaySeconds: 0, logger });
    // Execute
    await stack.queue.send("poison job");
    const dead = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.deadLetterQueueUrl, WaitTimeSeconds: 10 }));
    controller.abort();
    await loop;
    // Assert
    expect(dead.Messages?.map((message) => message.Body)).toEqual(["poison job"]);
    expect(attempts).toBe(3);
    expect(warnings).toEqual(Array(3).fill("job failed; left for redelivery"));
  });

  it("cancels its long poll on abort instead of waiting it out", async () => {
    // Prepare: a 20-second long poll on an empty queue, observed from the client's side.
    const controller = new AbortController();
    const events: string[] = [];
    let polling!: () => void;
    const sent = new Promise<void>((resolve) => (polling = resolve));
    const sqs = watchedClient(stack, events, (command) => command === "ReceiveMessageCommand" && polling());
    const handled: string[] = [];
    const loop = receiveJobs(sqs, stack.queueUrl, async (body) => void handled.push(body), { signal: controller.signal, waitTimeSeconds: 20 });
    await sent;
    // Execute
    controller.abort();
    await loop;
    sqs.destroy();
    // Assert: the one receive was cut short, not answered, and no other followed.
    expect(events).toEqual(["ReceiveMessageCommand AbortError"]);
    expect(handled).toEqual([]);
  });
});

describe("startEmbeddedStack: lifecycle", () => {
  it("frees its port on stop, and stop is idempotent", async () => {
    // Prepare
    const stack = await startEmbeddedStack();
    const port = Number(new URL(stack.endpoint).port);
    // Execute
    await stack.stop();
    await stack.stop();
    // Assert
    expect(await canListen(port)).toBe(true);
    const again = await startEmbeddedStack({ port });
    expect(again.endpoint).toBe(`http://127.0.0.1:${port}`);
    await again.stop();
  });

  it("rejects a port already in use", async () => {
    const stack = await startEmbeddedStack();
    await expect(startEmbeddedStack({ port: Number(new URL(stack.endpoint).port) })).rejects.toMatchObject({ code: "EADDRINUSE" });
    await stack.stop();
  });

  it("reports requests to a given logger without query strings, and creates FIFO queues by name", async () => {
    // Prepare
    const lines: Array<Record<string, unknown> | undefined> = [];
    const logger: Logger = { info: (_message, fields) => lines.push(fields), warn() {}, error() {} };
    const stack = await startEmbeddedStack({ logger, bucket: "fed-a", queue: "jobs.fifo" });
    // Execute
    await fetch(await stack.store.presignPut("k", 60, 1), { method: "PUT", body: "x" });
    await stack.queue.send("job", "dedupe-1");
    await stack.queue.send("job", "dedupe-1");
    await stack.stop();
    // Assert
    expect(stack.deadLetterQueueUrl).toMatch(/\/jobs-dlq\.fifo$/);
    expect(lines).toContainEqual({ method: "PUT", path: "/fed-a/k", status: 200 });
    expect(lines.every((fields) => !String(fields?.path).includes("?"))).toBe(true);
  });
});
