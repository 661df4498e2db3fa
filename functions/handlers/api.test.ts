import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import type { LambdaContext, LambdaEvent } from "hono/aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startEmbeddedStack, type EmbeddedStack } from "../../cli/embedded-stack.ts";
import { FailureCount } from "../../core/schemas/round.ts";
import { FederationStatus } from "../../core/schemas/status.ts";
import { federationConfig } from "../../test/support/coordinator.ts";
import { handler } from "./api.ts";

const ADMIN = "lambda-admin-token-0123456789";
const BUCKET = "consilium-state";
let stack: EmbeddedStack;

const context: LambdaContext = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: "consilium-api",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:consilium-api",
  memoryLimitInMB: "1024",
  awsRequestId: "request-1",
  logGroupName: "/aws/lambda/consilium-api",
  logStreamName: "stream",
  getRemainingTimeInMillis: () => 30_000,
};

/** A function URL (API Gateway payload v2) request. */
function event(method: string, path: string, options: { headers?: Record<string, string>; body?: string } = {}): LambdaEvent {
  const domainName = "abcdefgh.lambda-url.us-east-1.on.aws";
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: { host: domainName, "user-agent": "consilium-test", ...options.headers },
    body: options.body ?? null,
    isBase64Encoded: false,
    requestContext: {
      accountId: "anonymous",
      apiId: "abcdefgh",
      authentication: null,
      authorizer: {},
      domainName,
      domainPrefix: "abcdefgh",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "consilium-test" },
      requestId: "request-1",
      routeKey: "$default",
      stage: "$default",
      time: "14/Nov/2023:22:13:20 +0000",
      timeEpoch: 1_700_000_000_000,
    },
  };
}

beforeAll(async () => {
  stack = await startEmbeddedStack({ bucket: BUCKET });
  // As SST links resources to a function, plus what the AWS SDK reads to find the embedded store
  // (which checks every request's signature against its own key).
  vi.stubEnv("SST_RESOURCE_State", JSON.stringify({ name: BUCKET }));
  vi.stubEnv("SST_RESOURCE_Jobs", JSON.stringify({ url: stack.queueUrl }));
  vi.stubEnv("SST_RESOURCE_AdminToken", JSON.stringify({ value: ADMIN }));
  vi.stubEnv("AWS_ENDPOINT_URL", stack.endpoint);
  vi.stubEnv("AWS_REGION", stack.region);
  vi.stubEnv("AWS_ACCESS_KEY_ID", stack.credentials.accessKeyId);
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", stack.credentials.secretAccessKey);
  // The handler logs JSON lines to the console, as CloudWatch wants; keep the test output clean.
  for (const level of ["log", "warn", "error"] as const) vi.spyOn(console, level).mockImplementation(() => undefined);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  await stack.stop();
});

async function stored(prefix: string): Promise<string[]> {
  const { Contents = [] } = await stack.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return Contents.map((o) => o.Key ?? "");
}

// The SDK finds the embedded store through AWS_ENDPOINT_URL alone because the endpoint is an IP literal, for
// which it addresses buckets path-style; a host name such as `localhost` would need forcePathStyle.
describe("api handler (function URL event, state on S3 via the embedded store)", () => {
  it("answers GET /healthz", async () => {
    // Execute
    const res = await handler(event("GET", "/healthz"), context);
    // Assert
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ ok: true });
    expect(res.isBase64Encoded).toBe(false);
  });

  it("creates a federation in the bucket and reports it on GET /v1/admin/status", async () => {
    // Prepare
    const auth = { authorization: `Bearer ${ADMIN}` };
    const created = await handler(
      event("POST", "/v1/admin/federation", { headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(federationConfig()) }),
      context,
    );
    // Execute
    const res = await handler(event("GET", "/v1/admin/status", { headers: auth }), context);
    // Assert
    expect(created.statusCode).toBe(201);
    expect(res.statusCode).toBe(200);
    const status = FederationStatus.parse(JSON.parse(res.body));
    expect(status.federation).toBe("test-fed");
    expect(status.state).toMatchObject({ phase: "stats", round: 0, modelVersion: 0 });
    // The consortium's agreement, its first run's record and trigger, the pointer, and the run's own keys under its prefix.
    const written = (await stored("")).filter((k) => !k.startsWith("rejections/"));
    expect(written.filter((k) => !k.startsWith("consortium/triggers/") && !k.startsWith("audit/"))).toEqual(["consortium/active-run.json", "consortium/config.json", "consortium/runs/000001.json", "consortium/trigger-tags/created-consortium.json", "runs/000001/federation.json", "runs/000001/state.json"]);
    expect(written.filter((k) => k.startsWith("consortium/triggers/"))).toEqual([expect.stringMatching(/^consortium\/triggers\/\d{15}-created-consortium\.json$/)]);
  });

  it("refuses GET /v1/admin/status without a token and counts the refusal in the bucket, storing nothing of the request", async () => {
    // Execute
    const res = await handler(event("GET", "/v1/admin/status"), context);
    // Assert
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body)).toEqual({ error: { code: "UNAUTHENTICATED", message: "missing bearer token" } });
    expect(await stored("rejections/")).toEqual([]);
    const [key, ...more] = await stored("failures/");
    expect(more).toEqual([]);
    const object = await stack.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(FailureCount.parse(JSON.parse(await object.Body!.transformToString()))).toMatchObject({ code: "UNAUTHENTICATED", count: 1 });
  });
});
