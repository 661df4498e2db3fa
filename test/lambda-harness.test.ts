/**
 * The Lambda harness holds what it runs to Lambda's limits, so that a federation that broke none
 * (test/e2e-lambda.test.ts) says something: a fixture handler (fixtures/lambda/limits-handler.ts),
 * bundled as SST bundles, breaks each limit on request and each break is caught and recorded —
 * a payload over 6 MB either way, a timeout, memory past the function's, a write outside /tmp
 * (even one the handler swallows) — while the same handler within its limits breaks none. The
 * Function URL's translation (payload format 2.0) and the queue trigger's partial batch
 * responses are checked against the same handler.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedStack, type EmbeddedStack } from "../cli/embedded-stack.ts";
import { S3ObjectStore } from "../functions/adapters/s3-object-store.ts";
import { AUDIT_BUCKET_POLICY } from "../infra/policy.ts";
import { bundleHandler, type BuiltFunction } from "../scripts/build-lambda.ts";
import { startFunctionUrl, startQueueTrigger, type FunctionUrl } from "./support/lambda/event-sources.ts";
import { LambdaHarness, PAYLOAD_LIMIT_BYTES, type HarnessFunction } from "./support/lambda/harness.ts";
import { startIamProxy, type IamProxy } from "./support/lambda/iam-proxy.ts";

const MB = 1024 * 1024;

describe("the Lambda harness", () => {
  let dir: string;
  let built: BuiltFunction;
  const harnesses: LambdaHarness[] = [];
  const fn = (overrides: Partial<HarnessFunction> = {}): HarnessFunction => ({
    name: "Limits", dir: built.dir, file: built.file, exportName: built.exportName, memoryMb: 256, timeoutSeconds: 2, env: { AWS_REGION: "us-east-1" }, ...overrides,
  });
  const harness = (overrides: Partial<HarnessFunction> = {}) => {
    const h = new LambdaHarness([fn(overrides)]);
    harnesses.push(h);
    return h;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "consilium-lambda-limits-"));
    built = await bundleHandler("test/fixtures/lambda/limits-handler.handler", dir);
  });
  afterAll(async () => {
    await Promise.all(harnesses.map((h) => h.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  it("runs a handler within its limits without recording anything, one cold start for invocations in turn", async () => {
    const h = harness();
    expect(await h.invoke("Limits", { do: "tmp" })).toEqual({ ok: true, payload: { tmp: "ok" } });
    expect(await h.invoke("Limits", { do: "sleep", ms: 10 })).toEqual({ ok: true, payload: { slept: 10 } });
    expect(await h.invoke("Limits", { do: "throw" })).toEqual({ ok: false, errorType: "TypeError", errorMessage: "asked to fail" });
    expect(h.violations).toEqual([]);
    expect(h.stats.get("Limits")).toMatchObject({ invocations: 3, errors: 1 });
    expect(h.stats.get("Limits")!.coldStartsMs).toHaveLength(1);
  });

  it("starts another environment for a concurrent invocation, as Lambda scales", async () => {
    const h = harness();
    await Promise.all([h.invoke("Limits", { do: "sleep", ms: 200 }), h.invoke("Limits", { do: "sleep", ms: 200 })]);
    expect(h.stats.get("Limits")!.coldStartsMs).toHaveLength(2);
    expect(h.violations).toEqual([]);
  });

  it("refuses an event over 6 MB before the function runs", async () => {
    const h = harness();
    const r = await h.invoke("Limits", { do: "echo", bytes: 1, pad: "x".repeat(PAYLOAD_LIMIT_BYTES) });
    expect(r).toMatchObject({ ok: false, errorType: "RequestEntityTooLargeException" });
    expect(h.violations).toEqual([expect.stringMatching(/^Limits: event of \d+ bytes is over Lambda's 6291456-byte payload limit$/)]);
    expect(h.stats.get("Limits")!.invocations).toBe(0);
  });

  it("fails a response over 6 MB", async () => {
    const h = harness();
    expect(await h.invoke("Limits", { do: "echo", bytes: PAYLOAD_LIMIT_BYTES + 1 })).toMatchObject({ ok: false, errorType: "Function.ResponseSizeTooLarge" });
    expect(h.violations).toEqual([expect.stringMatching(/^Limits: response of \d+ bytes is over/)]);
  });

  it("cuts off an invocation past the function's timeout and ends its environment", async () => {
    const h = harness({ timeoutSeconds: 1 });
    expect(await h.invoke("Limits", { do: "sleep", ms: 5_000 })).toMatchObject({ ok: false, errorType: "Sandbox.Timedout" });
    expect(h.violations).toEqual(["Limits: invocation timed out after 1 s"]);
    // The next invocation is a cold start in a new environment.
    expect(await h.invoke("Limits", { do: "sleep", ms: 1 })).toEqual({ ok: true, payload: { slept: 1 } });
    expect(h.stats.get("Limits")!.coldStartsMs).toHaveLength(2);
  });

  it("ends an environment whose memory outgrows the function's", async () => {
    const h = harness({ memoryMb: 160 });
    const r = await h.invoke("Limits", { do: "hold", mb: 200 });
    expect(r.ok).toBe(false);
    expect(h.violations.join("\n")).toMatch(/^Limits: (\d+ MB resident, over its 160 MB|the environment exited during an invocation)/);
  });

  it("fails a write outside /tmp with EROFS, and records it even when the handler swallows the error", async () => {
    const h = harness();
    const target = join(built.dir, "written-by-handler");
    expect(await h.invoke("Limits", { do: "write", path: target })).toMatchObject({ ok: false, errorMessage: expect.stringMatching(/^EROFS: read-only file system/) });
    expect(await h.invoke("Limits", { do: "write", path: target, swallow: true })).toEqual({ ok: true, payload: { swallowed: "EROFS" } });
    expect(h.violations).toEqual([
      `Limits: writeFile ${target}: Lambda's file system is read-only outside /tmp`,
      `Limits: writeFile ${target}: Lambda's file system is read-only outside /tmp`,
    ]);
  });

  describe("behind a Function URL", () => {
    let h: LambdaHarness;
    let url: FunctionUrl;
    beforeAll(async () => {
      h = harness();
      url = await startFunctionUrl(h, "Limits");
    });
    afterAll(() => url.close());

    it("hands the function a payload 2.0 event (text as text, bytes as base64) and answers with its status, headers, cookies and body; 413 for a body over 6 MB", async () => {
      const json = await fetch(`${url.url}/v1/x?a=1&a=2`, { method: "POST", headers: { "content-type": "application/json", cookie: "c=1; d=2" }, body: '{"k":1}' });
      expect(json.status).toBe(201);
      expect(json.headers.get("x-echo")).toBe("1");
      expect(json.headers.get("set-cookie")).toBe("seen=1; Path=/");
      expect(await json.json()).toEqual({ method: "POST", rawPath: "/v1/x", rawQueryString: "a=1&a=2", contentType: "application/json", cookies: ["c=1", "d=2"], body: '{"k":1}', isBase64Encoded: false });
      const bytes = await fetch(`${url.url}/up`, { method: "PUT", headers: { "content-type": "application/octet-stream" }, body: new Uint8Array([0, 255, 7]) });
      expect(await bytes.json()).toMatchObject({ method: "PUT", body: Buffer.from([0, 255, 7]).toString("base64"), isBase64Encoded: true });
      const big = await fetch(`${url.url}/any`, { method: "POST", body: new Uint8Array(PAYLOAD_LIMIT_BYTES + MB) });
      expect(big.status).toBe(413);
      expect(h.violations).toEqual([expect.stringMatching(/^Limits: a request body over 6291456 bytes was sent to its Function URL$/)]);
    });
  });

  describe("behind a queue", () => {
    let stack: EmbeddedStack;
    let h: LambdaHarness;
    const controller = new AbortController();
    let trigger: ReturnType<typeof startQueueTrigger>;
    beforeAll(async () => {
      stack = await startEmbeddedStack({ visibilityTimeoutSeconds: 1, maxReceiveCount: 2 });
      h = harness();
      const { Attributes } = await stack.sqs.send(new GetQueueAttributesCommand({ QueueUrl: stack.queueUrl, AttributeNames: ["QueueArn"] }));
      trigger = startQueueTrigger(h, "Limits", { sqs: stack.sqs, queueUrl: stack.queueUrl, queueArn: Attributes?.QueueArn ?? "", region: stack.region, batchSize: 10, signal: controller.signal });
    });
    afterAll(async () => {
      controller.abort();
      await trigger.done;
      await stack.stop();
    });

    it("deletes the records a partial batch response does not list and redelivers the rest until the dead-letter queue", async () => {
      for (const body of ["ok-1", "fail-1", "ok-2"]) await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: body }));
      let dead: string[] = [];
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && dead.length === 0) {
        const r = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.deadLetterQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        dead = (r.Messages ?? []).map((m) => m.Body ?? "");
      }
      expect(dead).toEqual(["fail-1"]);
      expect(trigger.stats).toMatchObject({ deleted: 2, failed: 2, redelivered: 1 });
      // A handler that answers null (or {}) reports no failure: the batch is deleted whole, as Lambda reads it.
      await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: "null-1" }));
      const until = Date.now() + 10_000;
      while (Date.now() < until && trigger.stats.deleted < 3) await new Promise((r) => setTimeout(r, 50));
      expect(trigger.stats).toMatchObject({ deleted: 3, failed: 2 });
    }, 30_000);
  });
});

describe("the harness's IAM proxy", () => {
  let stack: EmbeddedStack;
  let proxy: IamProxy;
  const violations: string[] = [];
  const arn = (key: string) => `arn:aws:s3:::consilium/${key}`;
  beforeAll(async () => {
    stack = await startEmbeddedStack();
    proxy = await startIamProxy({
      name: "Reader",
      target: new URL(stack.endpoint),
      statements: [
        { actions: ["s3:GetObject", "s3:PutObject"], resources: [arn("*")] },
        { actions: ["s3:ListBucket"], resources: ["arn:aws:s3:::consilium"] },
        { effect: "deny", actions: ["s3:PutObject"], resources: [arn("sites/*")] },
      ],
      queues: new Map([[stack.queueUrl, "arn:aws:sqs:us-east-1:000000000000:consilium-jobs"]]),
      onViolation: (m) => violations.push(m),
    });
  });
  afterAll(async () => {
    await proxy.close();
    await stack.stop();
  });

  it("lets through what the policy allows, refuses the rest (an explicit deny over an allow), presigned requests held to their signer's policy", async () => {
    const s3 = new S3Client({ endpoint: proxy.url, region: stack.region, credentials: stack.credentials, forcePathStyle: true });
    const store = new S3ObjectStore({ client: s3, bucket: stack.bucket });
    await store.put("rounds/000001/round.json", "{}");
    expect(await store.list("rounds/")).toEqual(["rounds/000001/round.json"]);
    await expect(store.delete("rounds/000001/round.json")).rejects.toThrow(/AccessDenied|not allowed/);
    await expect(store.put("sites/site-01.json", "{}")).rejects.toThrow(/AccessDenied|not allowed/);
    const sqs = new SQSClient({ endpoint: proxy.url, region: stack.region, credentials: stack.credentials });
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: "{}" }))).rejects.toThrow();
    // A URL presigned through the proxy is checked when its holder uses it: the signer may put rounds/, not sites/.
    const ok = await fetch(await store.presignPut("rounds/000001/updates/site-01.bin", 60, 3), { method: "PUT", body: new Uint8Array([1, 2, 3]) });
    expect(ok.status).toBe(200);
    const refused = await fetch(await store.presignPut("sites/site-02.json", 60, 2), { method: "PUT", body: "{}" });
    expect(refused.status).toBe(403);
    expect(violations).toEqual([
      "Reader: s3:DeleteObject on arn:aws:s3:::consilium/rounds/000001/round.json is not allowed by its policy",
      "Reader: s3:PutObject on arn:aws:s3:::consilium/sites/site-01.json is not allowed by its policy",
      "Reader: sqs:SendMessage on arn:aws:sqs:us-east-1:000000000000:consilium-jobs is not allowed by its policy",
      "Reader: s3:PutObject on arn:aws:s3:::consilium/sites/site-02.json is not allowed by its policy",
    ]);
    // A bucket policy's deny (the audit bucket's) applies on top: a PUT without If-None-Match is refused, a conditional one goes through.
    const guarded = await startIamProxy({
      name: "Auditor", target: new URL(stack.endpoint), statements: [{ actions: ["s3:GetObject", "s3:PutObject"], resources: [arn("*")] }],
      queues: new Map(), onViolation: (m) => violations.push(m), bucketPolicies: new Map([["arn:aws:s3:::consilium", AUDIT_BUCKET_POLICY]]),
    });
    const auditClient = new S3Client({ endpoint: guarded.url, region: stack.region, credentials: stack.credentials, forcePathStyle: true });
    const auditStore = new S3ObjectStore({ client: auditClient, bucket: stack.bucket });
    expect(await auditStore.put("audit/trail/000000000001.json", "{}", { ifAbsent: true })).toBe(true);
    await expect(auditStore.put("audit/trail/000000000001.json", "{\"forged\":true}")).rejects.toThrow(/AccessDenied|refused/);
    expect(violations.at(-1)).toBe("Auditor: s3:PutObject on arn:aws:s3:::consilium/audit/trail/000000000001.json is refused by the bucket's policy");
    expect(Buffer.from((await stack.store.get("audit/trail/000000000001.json"))!).toString()).toBe("{}");
    auditClient.destroy();
    await guarded.close();
    await stack.store.delete("audit/trail/000000000001.json");
    // Nothing refused reached the store.
    expect(await stack.store.list("")).toEqual(["rounds/000001/round.json", "rounds/000001/updates/site-01.bin"]);
    s3.destroy();
    sqs.destroy();
  });
});
