import { request as httpRequest } from "node:http";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { FinalizeRequestMiddleware, MetadataBearer } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedStack, type EmbeddedStack } from "../embedded-stack.ts";

/** The HTTP status an SDK call ended with. */
async function statusOf(call: Promise<unknown>): Promise<number | undefined> {
  return call.then(() => 200, (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode);
}

/** A request to the store's own port that names `host`, as a TLS proxy forwards one. */
function viaHost(url: string, host: string, port: number): Promise<number> {
  const { pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path: `${pathname}${search}`, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once("error", reject);
    req.end();
  });
}

describe("the embedded store checks every request's signature", () => {
  let stack: EmbeddedStack;
  let object: string;
  beforeAll(async () => {
    stack = await startEmbeddedStack();
    await stack.store.put("models/000001/weights.bin", new Uint8Array([1, 2, 3]));
    object = `${stack.endpoint}/${stack.bucket}/models/000001/weights.bin`;
  });
  afterAll(() => stack.stop());

  const client = (secretAccessKey: string, accessKeyId = stack.credentials.accessKeyId) =>
    new S3Client({ endpoint: stack.endpoint, region: stack.region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });

  it("refuses unsigned S3 and SQS requests with 403", async () => {
    // Execute
    const statuses = await Promise.all([
      fetch(object),
      fetch(`${stack.endpoint}/${stack.bucket}?list-type=2`),
      fetch(`${stack.endpoint}/${stack.bucket}/sites/forged.json`, { method: "PUT", body: "{}" }),
      fetch(`${stack.endpoint}/${stack.bucket}/models/000001/weights.bin`, { method: "DELETE" }),
      fetch(`${stack.endpoint}/`, { method: "POST", headers: { "x-amz-target": "AmazonSQS.SendMessage", "content-type": "application/x-amz-json-1.0" }, body: JSON.stringify({ QueueUrl: stack.queueUrl, MessageBody: "x" }) }),
    ].map(async (response) => (await response).status));
    // Assert
    expect(statuses).toEqual([403, 403, 403, 403, 403]);
    expect(await stack.store.head("sites/forged.json")).toBeNull();
    expect(await stack.store.head("models/000001/weights.bin")).toBe(3);
  });

  it("refuses requests signed with a wrong secret or another key, S3 and SQS alike", async () => {
    // Prepare
    const wrong = client("not-the-store-secret-at-all-0000000000");
    const stranger = client(stack.credentials.secretAccessKey, "AKIDNOTTHESTORES0000");
    const sqs = new SQSClient({ endpoint: new URL(stack.queueUrl).origin, region: stack.region, credentials: { accessKeyId: stack.credentials.accessKeyId, secretAccessKey: "wrong-secret-wrong-secret-wrong-secret" } });
    // Execute
    const statuses = await Promise.all([
      statusOf(wrong.send(new GetObjectCommand({ Bucket: stack.bucket, Key: "models/000001/weights.bin" }))),
      statusOf(wrong.send(new PutObjectCommand({ Bucket: stack.bucket, Key: "sites/forged.json", Body: "{}" }))),
      statusOf(wrong.send(new ListObjectsV2Command({ Bucket: stack.bucket }))),
      statusOf(stranger.send(new GetObjectCommand({ Bucket: stack.bucket, Key: "models/000001/weights.bin" }))),
      statusOf(sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: "forged job" }))),
    ]);
    [wrong, stranger, sqs].forEach((c) => c.destroy());
    // Assert
    expect(statuses).toEqual([403, 403, 403, 403, 403]);
    expect(await stack.store.head("sites/forged.json")).toBeNull();
  });

  it("refuses a header-signed body that is not the body it signed", async () => {
    // Prepare: a middleware swaps the body after the signer has hashed it.
    const tampering = client(stack.credentials.secretAccessKey);
    const swapBody: FinalizeRequestMiddleware<object, MetadataBearer> = (next) => async (args) => {
      (args.request as { body: unknown }).body = new TextEncoder().encode("evil");
      return next(args);
    };
    tampering.middlewareStack.addRelativeTo(swapBody, { relation: "after", toMiddleware: "httpSigningMiddleware", name: "swapBody" });
    // Execute
    const status = await statusOf(tampering.send(new PutObjectCommand({ Bucket: stack.bucket, Key: "sites/swapped.json", Body: "good" })));
    tampering.destroy();
    // Assert
    expect(status).toBe(400);
    expect(await stack.store.head("sites/swapped.json")).toBeNull();
  });

  it("refuses a tampered presigned URL (other key, other method, other signature) and an expired one; serves the genuine one", async () => {
    // Prepare
    const url = await stack.store.presignGet("models/000001/weights.bin", 60);
    const expired = await getSignedUrl(stack.s3, new GetObjectCommand({ Bucket: stack.bucket, Key: "models/000001/weights.bin" }), { expiresIn: 60, signingDate: new Date(Date.now() - 3600_000) });
    // Execute
    const statuses = await Promise.all([
      fetch(url.replace("weights.bin", "control.bin")),
      fetch(url, { method: "DELETE" }),
      fetch(url.replace(/X-Amz-Signature=[0-9a-f]{4}/, "X-Amz-Signature=0000")),
      fetch(url.replace(/X-Amz-Expires=\d+/, "X-Amz-Expires=604800")),
      fetch(expired),
      fetch(url),
    ].map(async (response) => (await response).status));
    // Assert
    expect(statuses).toEqual([403, 403, 403, 403, 403, 200]);
  });
});

describe("the embedded store behind a public address", () => {
  let stack: EmbeddedStack;
  beforeAll(async () => {
    // A name that resolves nowhere: the coordinator reaches its own store over loopback all the same.
    stack = await startEmbeddedStack({ publicUrl: "https://coordinator.invalid:8443" });
  });
  afterAll(() => stack.stop());

  it("names the public origin in presigned URLs and checks them against the Host a proxy forwards", async () => {
    // Prepare
    await stack.store.put("models/000000/weights.bin", new Uint8Array([7]));
    const url = await stack.store.presignGet("models/000000/weights.bin", 60);
    const port = Number(new URL(stack.queueUrl).port);
    // Execute
    const [asProxied, asLocal] = [await viaHost(url, "coordinator.invalid:8443", port), await viaHost(url, `127.0.0.1:${port}`, port)];
    // Assert
    expect(url.startsWith("https://coordinator.invalid:8443/consilium/models/000000/weights.bin?")).toBe(true);
    expect(stack.endpoint).toBe("https://coordinator.invalid:8443");
    expect([asProxied, asLocal]).toEqual([200, 403]);
  });
});
