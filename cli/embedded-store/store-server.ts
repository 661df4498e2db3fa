/**
 * @module
 * The embedded store's HTTP handler: every request is checked against the store's SigV4 secret
 * (sigv4-check.ts) before anything is read or written, then routed to SQS (a POST with
 * `X-Amz-Target: AmazonSQS.*`) or to S3 (path-style `/bucket/key` under `basePath`). Errors go out
 * as S3 XML or SQS JSON with AWS's names, so the AWS SDK reads them as it reads AWS's.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import type { QueryParameterBag } from "@smithy/types";
import { silentLogger, type Logger } from "../../core/logger.ts";
import { BucketRegistry } from "./bucket-registry.ts";
import { QueueRegistry } from "./queue-registry.ts";
import { handleS3 } from "./s3-handler.ts";
import { errorXml } from "./s3-xml.ts";
import { checkSignature, type StoreCredentials } from "./sigv4-check.ts";
import { handleSqs } from "./sqs-handler.ts";
import { badRequest, StoreError } from "./store-error.ts";

export interface StoreServerOptions {
  /** The folder of buckets, queues and temp files. */
  readonly root: string;
  readonly credentials: StoreCredentials;
  readonly region: string;
  /** Where the store is mounted on its HTTP server: `""` (the root) or `/store`. */
  readonly basePath: string;
  /** False for a throwaway folder: no fsync. */
  readonly durable: boolean;
  readonly logger?: Logger;
}

export interface StoreServer {
  /** A node request listener for paths under `basePath`. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Answers every long poll; the HTTP server can then close. */
  close(): void;
  /** Files found at start that are not objects of the store, for a warning. */
  readonly skipped: readonly string[];
}

const MAX_SQS_BODY = 2 * 1024 * 1024;

/** Opens the folder and answers a handler for it. */
export async function openStoreServer(o: StoreServerOptions): Promise<StoreServer> {
  const tmpDir = join(o.root, "tmp");
  const buckets = await BucketRegistry.open(join(o.root, "buckets"), tmpDir, o.durable);
  const queues = await QueueRegistry.open(join(o.root, "queues"), tmpDir, o.durable);
  const logger = o.logger ?? silentLogger;
  const closing = new AbortController();

  async function serve(req: IncomingMessage, res: ServerResponse, rawPath: string, rawQuery: string): Promise<string | undefined> {
    const query = parseQuery(rawQuery);
    const headers = flatHeaders(req);
    const method = req.method ?? "GET";
    const target = headers["x-amz-target"];
    const context = { credentials: o.credentials, region: o.region, now: Date.now() };
    if (method === "POST" && target?.startsWith("AmazonSQS.")) {
      // Only this store's key signs a queue request: nothing else gets its body read.
      if (!headers.authorization?.includes(`Credential=${o.credentials.accessKeyId}/`)) throw new StoreError(403, "AccessDenied", "the request is not signed with this store's key");
      const body = await readBody(req, MAX_SQS_BODY);
      await checkSignature({ method, rawPath, query, headers, body }, { ...context, service: "sqs" });
      const action = target.slice("AmazonSQS.".length);
      const gone = AbortSignal.any([closing.signal, clientGone(res)]);
      let json: unknown;
      try {
        json = JSON.parse(body.toString("utf8") || "{}");
      } catch {
        throw badRequest("SerializationException", "the body is not JSON");
      }
      const result = await handleSqs({ action, body: json, endpoint: `http://${headers.host ?? "localhost"}${o.basePath}`, region: o.region, signal: gone }, queues);
      const text = JSON.stringify(result);
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0", "content-length": Buffer.byteLength(text) }).end(text);
      return action;
    }
    const verified = await checkSignature({ method, rawPath, query, headers }, { ...context, service: "s3" });
    const [bucket = "", ...rest] = rawPath.slice(o.basePath.length + 1).split("/");
    if (bucket === "") throw new StoreError(501, "NotImplemented", "ListBuckets is not supported by the embedded store");
    await handleS3({ req, res, bucket: decode(bucket), key: decode(rest.join("/")), query, verified }, buckets);
    return undefined;
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? "/";
    const at = url.indexOf("?");
    const rawPath = at < 0 ? url : url.slice(0, at);
    const base = { method: req.method, path: rawPath };
    const sqs = req.method === "POST" && String(req.headers["x-amz-target"] ?? "").startsWith("AmazonSQS.");
    let action: string | undefined;
    const answered = rawPath === o.basePath || rawPath.startsWith(`${o.basePath}/`)
      ? serve(req, res, rawPath, at < 0 ? "" : url.slice(at + 1)).then((a) => void (action = a))
      : Promise.reject(new StoreError(404, "NoSuchBucket", "not a path of the store"));
    answered
      .catch((error: unknown) => {
        if (!(error instanceof StoreError)) logger.error("embedded store request failed", { ...base, error: String(error) });
        const e = error instanceof StoreError ? error : new StoreError(500, "InternalError", "the store failed; see the coordinator's log");
        if (res.headersSent) return void res.destroy();
        // A refused upload's body is not read: close the connection rather than drain it.
        if (!req.complete) res.setHeader("connection", "close");
        sendError(res, e, sqs, req.method === "HEAD");
      })
      .finally(() => {
        // The path only: a presigned URL's query string is a bearer credential.
        logger.info("embedded stack request", { ...base, status: res.statusCode, ...(action !== undefined && { action }) });
      });
  }

  return {
    handle,
    close: () => {
      closing.abort();
      queues.close();
    },
    skipped: buckets.skipped,
  };
}

function sendError(res: ServerResponse, e: StoreError, sqs: boolean, head: boolean): void {
  const requestId = randomBytes(8).toString("hex");
  if (sqs) {
    const text = JSON.stringify({ __type: `com.amazonaws.sqs#${e.code}`, message: e.message });
    res.writeHead(e.status, { "content-type": "application/x-amz-json-1.0", "x-amzn-query-error": `${e.code};Sender`, "content-length": Buffer.byteLength(text) }).end(text);
    return;
  }
  if (head) return void res.writeHead(e.status, { "x-amz-request-id": requestId }).end();
  const xml = errorXml(e.code, e.message, requestId);
  res.writeHead(e.status, { "content-type": "application/xml", "x-amz-request-id": requestId, "content-length": Buffer.byteLength(xml) }).end(xml);
}

/** A query string as the signer reads it: percent-decoded (no `+` for space), repeated keys kept. */
function parseQuery(raw: string): QueryParameterBag {
  const query: QueryParameterBag = {};
  for (const part of raw === "" ? [] : raw.split("&")) {
    const at = part.indexOf("=");
    const key = decode(at < 0 ? part : part.slice(0, at));
    const value = at < 0 ? "" : decode(part.slice(at + 1));
    const seen = query[key];
    query[key] = seen === undefined || seen === null ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw badRequest("InvalidURI", "the URL is not valid percent-encoded UTF-8");
  }
}

function flatHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) out[name] = Array.isArray(value) ? value.join(",") : value;
  return out;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new StoreError(413, "RequestEntityTooLarge", "the request body is too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Aborts when the response's connection closes before the answer is written. */
function clientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
