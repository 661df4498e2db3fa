/**
 * @module
 * The triggers of the deployed stack, played against a `LambdaHarness`:
 *
 * - `startFunctionUrl`: an HTTP server on 127.0.0.1 that turns each request into a Function URL
 *   event (payload format 2.0: `rawPath`, `rawQueryString`, lower-case `headers` joined by
 *   commas, `cookies`, `requestContext.http`, a body base64-encoded unless it is text) and the
 *   function's result back into a response; a request body over 6 MB is refused with 413 before
 *   the function runs, and a function error is a 502, as Function URLs answer.
 * - `startQueueTrigger`: the SQS event source mapping: long-polls the queue, invokes the function
 *   with batches of up to `batchSize` records, deletes the records the response does not list in
 *   `batchItemFailures` (all of them on an invocation error or an invalid response: none), and
 *   leaves the rest to come back after the visibility timeout and, past the queue's redrive
 *   policy, go to its dead-letter queue.
 * - `startSchedule`: EventBridge scheduled events at a fixed period, one invocation at a time.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEventV2, EventBridgeEvent, SQSEvent, SQSRecord } from "aws-lambda";
import { PAYLOAD_LIMIT_BYTES, type Invocation, type LambdaHarness } from "./harness.ts";

const TEXT = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+json)/i;

/** The request's body, or null when it is over `limit` (read to its end all the same, so that the client gets the answer). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? null : Buffer.concat(chunks);
}

/** The Function URL event Lambda builds for this request (payload format 2.0). */
export function functionUrlEvent(req: IncomingMessage, body: Buffer, domainName: string): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? "/", `http://${domainName}`);
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    if (name === "cookie") continue;
    const value = req.rawHeaders[i + 1]!;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const cookies = req.headers.cookie?.split(/;\s*/).filter(Boolean);
  const now = new Date();
  const contentType = headers["content-type"] ?? "";
  const text = body.length === 0 || TEXT.test(contentType);
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies && cookies.length > 0 && { cookies }),
    headers,
    ...(Object.keys(query).length > 0 && { queryStringParameters: query }),
    requestContext: {
      accountId: "anonymous",
      apiId: domainName.split(".")[0]!,
      domainName,
      domainPrefix: domainName.split(".")[0]!,
      http: { method: req.method ?? "GET", path: url.pathname, protocol: "HTTP/1.1", sourceIp: req.socket.remoteAddress ?? "127.0.0.1", userAgent: headers["user-agent"] ?? "" },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 && { body: text ? body.toString("utf8") : body.toString("base64") }),
    isBase64Encoded: !text,
  };
}

interface UrlResult {
  statusCode?: number;
  headers?: Record<string, string>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
}

export interface FunctionUrl {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `name` as its Function URL on a free loopback port. */
export async function startFunctionUrl(harness: LambdaHarness, name: string): Promise<FunctionUrl> {
  const handle = async (req: IncomingMessage, res: ServerResponse, domainName: string) => {
    const body = await readBody(req, PAYLOAD_LIMIT_BYTES);
    if (body === null) {
      harness.violations.push(`${name}: a request body over ${PAYLOAD_LIMIT_BYTES} bytes was sent to its Function URL`);
      res.writeHead(413, { "content-type": "application/json" }).end(JSON.stringify({ Message: `Request must be smaller than ${PAYLOAD_LIMIT_BYTES} bytes for the InvokeFunction operation` }));
      return;
    }
    const result = await harness.invoke(name, functionUrlEvent(req, body, domainName));
    if (!result.ok) {
      res.writeHead(502, { "content-type": "application/json", "x-amzn-errortype": result.errorType }).end(JSON.stringify({ Message: null }));
      return;
    }
    // A result without statusCode is a 200 with the result as its JSON body, as Function URLs read it.
    const r = (typeof result.payload === "object" && result.payload !== null && "statusCode" in result.payload ? result.payload : { statusCode: 200, body: JSON.stringify(result.payload), headers: { "content-type": "application/json" } }) as UrlResult;
    const headers: Record<string, string | string[]> = { ...(r.headers ?? {}) };
    if (r.cookies && r.cookies.length > 0) headers["set-cookie"] = r.cookies;
    const out = r.body === undefined ? Buffer.alloc(0) : r.isBase64Encoded ? Buffer.from(r.body, "base64") : Buffer.from(r.body, "utf8");
    res.writeHead(r.statusCode ?? 200, headers).end(out);
  };
  const server = createServer((req, res) => {
    const address = server.address() as AddressInfo;
    handle(req, res, `127.0.0.1:${address.port}`).catch((error: unknown) => {
      harness.violations.push(`${name}: its Function URL failed: ${String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", resolveListen));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolveClose) => {
      server.closeAllConnections();
      server.close(() => resolveClose());
    }),
  };
}

export interface QueueTriggerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  readonly batchSize: number;
  readonly signal: AbortSignal;
}

export interface QueueTriggerStats {
  batches: number;
  records: number;
  /** Records deleted after their invocation succeeded for them. */
  deleted: number;
  /** Records the function reported in `batchItemFailures` or whose invocation failed: left for redelivery. */
  failed: number;
  /** Records received more than once. */
  redelivered: number;
  /** Deletions the queue refused (a stale receipt handle). */
  deleteFailures: number;
}

function sqsRecord(m: { MessageId?: string; ReceiptHandle?: string; Body?: string; MD5OfBody?: string; Attributes?: Record<string, string> }, o: QueueTriggerOptions): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId ?? "",
    receiptHandle: m.ReceiptHandle ?? "",
    body: m.Body ?? "",
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? "1",
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? "harness",
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: o.queueArn,
    awsRegion: o.region,
  };
}

/** Runs the event source mapping until the signal; resolves when the batch in hand is settled. */
export function startQueueTrigger(harness: LambdaHarness, name: string, o: QueueTriggerOptions): { stats: QueueTriggerStats; done: Promise<void> } {
  const stats: QueueTriggerStats = { batches: 0, records: 0, deleted: 0, failed: 0, redelivered: 0, deleteFailures: 0 };
  const loop = async () => {
    while (!o.signal.aborted) {
      const received = await o.sqs
        .send(new ReceiveMessageCommand({ QueueUrl: o.queueUrl, MaxNumberOfMessages: o.batchSize, WaitTimeSeconds: 1, MessageSystemAttributeNames: ["All"] }), { abortSignal: o.signal })
        .catch(() => undefined);
      const messages = received?.Messages ?? [];
      if (messages.length === 0) continue;
      const event: SQSEvent = { Records: messages.map((m) => sqsRecord(m, o)) };
      stats.batches++;
      stats.records += event.Records.length;
      stats.redelivered += event.Records.filter((r) => Number(r.attributes.ApproximateReceiveCount) > 1).length;
      const result = await harness.invoke(name, event);
      const failures = new Set<string>();
      const ids = new Set(event.Records.map((r) => r.messageId));
      if (!result.ok) for (const id of ids) failures.add(id);
      else {
        // As Lambda reads a partial batch response: null, an empty object, or a null or empty list is complete success;
        // anything else that is not a list of known, non-empty identifiers fails the whole batch.
        const payload = result.payload;
        const listed = payload === null ? null : typeof payload === "object" && !Array.isArray(payload) ? ((payload as { batchItemFailures?: unknown }).batchItemFailures ?? null) : undefined;
        const valid = listed === null || (Array.isArray(listed) && listed.every((f: { itemIdentifier?: unknown } | null) => typeof f?.itemIdentifier === "string" && ids.has(f.itemIdentifier)));
        if (!valid) for (const id of ids) failures.add(id);
        else for (const f of (listed ?? []) as { itemIdentifier: string }[]) failures.add(f.itemIdentifier);
      }
      stats.failed += failures.size;
      const settled = event.Records.filter((r) => !failures.has(r.messageId));
      for (const r of settled) {
        // A receipt that is stale (the record came back meanwhile) is not deleted: it will be received again, as in AWS.
        const deleted = await o.sqs.send(new DeleteMessageCommand({ QueueUrl: o.queueUrl, ReceiptHandle: r.receiptHandle })).then(() => true, () => false);
        if (deleted) stats.deleted++;
        else stats.deleteFailures++;
      }
    }
  };
  return { stats, done: loop() };
}

/**
 * Invokes `name` with a scheduled event every `everyMs` (one at a time) until the signal, or until
 * `onResult` (which sees each invocation's result) answers false.
 */
export function startSchedule(harness: LambdaHarness, name: string, everyMs: number, region: string, signal: AbortSignal, onResult?: (result: Invocation) => boolean): Promise<void> {
  const loop = async () => {
    while (!signal.aborted) {
      const event: EventBridgeEvent<"Scheduled Event", Record<string, never>> = {
        version: "0", id: randomUUID(), "detail-type": "Scheduled Event", source: "aws.events", account: "000000000000",
        time: new Date().toISOString(), region, resources: [`arn:aws:events:${region}:000000000000:rule/${name}`], detail: {},
      };
      const result = await harness.invoke(name, event);
      if (onResult && !onResult(result)) return;
      await sleep(everyMs, undefined, { signal }).catch(() => undefined);
    }
  };
  return loop();
}
