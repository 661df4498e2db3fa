/**
 * @module
 * The S3 operations the coordinator and the sites' presigned URLs use, path-style, on the
 * folder-backed buckets: Create/HeadBucket, Put/Get/Head/DeleteObject (PUT with `If-None-Match: *`),
 * ListObjectsV2 with prefix and pages, and multipart Create/UploadPart/Complete/Abort. Anything else
 * is `NotImplemented`, never a silent approximation.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import type { QueryParameterBag } from "@smithy/types";
import { z } from "zod";
import type { Bucket, BucketRegistry } from "./bucket-registry.ts";
import type { DeclaredBody } from "./receive-body.ts";
import { completeXml, initiateXml, listXml, parseCompleteParts } from "./s3-xml.ts";
import type { Verified } from "./sigv4-check.ts";
import { badRequest, StoreError } from "./store-error.ts";

/** A signed request for one bucket (and key, empty for the bucket itself). */
export interface S3Call {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly bucket: string;
  readonly key: string;
  readonly query: QueryParameterBag;
  readonly verified: Verified;
}

const MAX_OBJECT_BYTES = 5 * 1024 ** 3;
const MAX_COMPLETE_BODY = 4 * 1024 * 1024;
const notImplemented = (what: string): StoreError => new StoreError(501, "NotImplemented", `${what} is not supported by the embedded store`);

const ListQuery = z.object({
  "list-type": z.literal("2"),
  prefix: z.string().default(""),
  "max-keys": z.string().regex(/^\d{1,7}$/).transform(Number).default(1000),
  "continuation-token": z.string().regex(/^[A-Za-z0-9_-]*$/).optional(),
  "start-after": z.string().optional(),
});
const PartQuery = z.object({ uploadId: z.string().min(1), partNumber: z.string().regex(/^\d{1,5}$/).transform(Number).pipe(z.number().int().min(1).max(10_000)) });
const ContentLength = z.string().regex(/^\d{1,13}$/).transform(Number).pipe(z.number().max(MAX_OBJECT_BYTES));

export async function handleS3(call: S3Call, buckets: BucketRegistry): Promise<void> {
  const { req, key, query } = call;
  const method = req.method ?? "GET";
  if (key === "") return bucketCall(call, method, buckets);
  const bucket = buckets.get(call.bucket);
  if (!bucket) throw new StoreError(404, "NoSuchBucket", `no bucket ${call.bucket}`);
  if (req.headers["if-match"] !== undefined || req.headers["x-amz-copy-source"] !== undefined) throw notImplemented("If-Match and CopyObject");
  const uploadId = typeof query.uploadId === "string" ? query.uploadId : undefined;
  if (method === "PUT" && uploadId !== undefined) return uploadPart(call, bucket);
  if (method === "PUT") return putObject(call, bucket);
  if (method === "GET" || method === "HEAD") return getObject(call, bucket, method === "HEAD");
  if (method === "DELETE") {
    await (uploadId === undefined ? bucket.objects.delete(key) : bucket.uploads.abort(key, uploadId));
    return void call.res.writeHead(204).end();
  }
  if (method === "POST" && query.uploads !== undefined) {
    const id = await bucket.uploads.create(key, contentTypeOf(req.headers["content-type"]));
    return sendXml(call.res, initiateXml(call.bucket, key, id));
  }
  if (method === "POST" && uploadId !== undefined) return completeUpload(call, bucket, uploadId);
  throw notImplemented(`${method} on an object`);
}

async function bucketCall(call: S3Call, method: string, buckets: BucketRegistry): Promise<void> {
  if (method === "PUT") {
    await buckets.create(call.bucket);
    return void call.res.writeHead(200, { location: `/${call.bucket}` }).end();
  }
  const bucket = buckets.get(call.bucket);
  if (method === "HEAD") return void call.res.writeHead(bucket ? 200 : 404).end();
  if (!bucket) throw new StoreError(404, "NoSuchBucket", `no bucket ${call.bucket}`);
  if (method !== "GET" || call.query["list-type"] === undefined) throw notImplemented(`${method} on a bucket`);
  if (call.query.delimiter !== undefined) throw notImplemented("a delimiter");
  const q = ListQuery.safeParse(call.query);
  if (!q.success) throw badRequest("InvalidArgument", `bad listing parameter: ${q.error.issues[0]?.path.join(".") ?? ""}`);
  const token = q.data["continuation-token"];
  const after = token !== undefined ? Buffer.from(token, "base64url").toString("utf8") : (q.data["start-after"] ?? "");
  const maxKeys = Math.min(q.data["max-keys"], 1000);
  const page = bucket.objects.list(q.data.prefix, after, maxKeys);
  const last = page.objects.at(-1)?.key;
  sendXml(call.res, listXml({
    bucket: call.bucket, prefix: q.data.prefix, maxKeys, truncated: page.truncated,
    ...(token !== undefined && { continuationToken: token }),
    ...(page.truncated && last !== undefined && { nextContinuationToken: Buffer.from(last).toString("base64url") }),
    ...(q.data["start-after"] !== undefined && { startAfter: q.data["start-after"] }),
  }, page.objects));
}

async function putObject(call: S3Call, bucket: Bucket): Promise<void> {
  const ifAbsent = conditional(call.req);
  const contentType = contentTypeOf(call.req.headers["content-type"]);
  const etag = await bucket.objects.put(call.key, call.req, declaredBody(call), { ifAbsent, ...(contentType !== undefined && { contentType }) });
  if (etag === null) throw new StoreError(412, "PreconditionFailed", "an object exists under the key");
  call.res.writeHead(200, { etag }).end();
}

async function uploadPart(call: S3Call, bucket: Bucket): Promise<void> {
  const q = PartQuery.safeParse(call.query);
  if (!q.success) throw badRequest("InvalidArgument", "partNumber must be a whole number from 1 to 10000");
  const etag = await bucket.uploads.putPart(call.key, q.data.uploadId, q.data.partNumber, call.req, declaredBody(call));
  call.res.writeHead(200, { etag }).end();
}

async function completeUpload(call: S3Call, bucket: Bucket, uploadId: string): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of call.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_COMPLETE_BODY) throw badRequest("MaxMessageLengthExceeded", "the part list is too long");
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  const signed = call.verified.payloadSha256;
  if (signed !== undefined && signed !== createHash("sha256").update(body).digest("hex")) throw badRequest("XAmzContentSHA256Mismatch", "the body does not match its signed sha256");
  const etag = await bucket.uploads.complete(call.key, uploadId, parseCompleteParts(body.toString("utf8")), conditional(call.req));
  if (etag === null) throw new StoreError(412, "PreconditionFailed", "an object exists under the key");
  sendXml(call.res, completeXml(call.bucket, call.key, etag));
}

async function getObject(call: S3Call, bucket: Bucket, headOnly: boolean): Promise<void> {
  if (call.req.headers.range !== undefined) throw notImplemented("a Range request");
  const object = await bucket.objects.open(call.key);
  if (!object) throw new StoreError(404, "NoSuchKey", "no object under the key");
  const { handle, size, meta } = object;
  try {
    call.res.writeHead(200, {
      "content-length": size, "content-type": meta.contentType ?? "application/octet-stream", etag: meta.etag, "last-modified": new Date(meta.lastModified).toUTCString(),
    });
    if (headOnly || size === 0) return void call.res.end();
    await pipeline(handle.createReadStream({ start: 0, end: size - 1, autoClose: false }), call.res);
  } finally {
    await handle.close();
  }
}

/** `If-None-Match: *` makes a write conditional; S3 takes no other value on a write. */
function conditional(req: IncomingMessage): boolean {
  const value = req.headers["if-none-match"];
  if (value === undefined) return false;
  if (value.trim() === "*") return true;
  throw notImplemented("If-None-Match with an ETag");
}

function declaredBody(call: S3Call): DeclaredBody {
  const length = ContentLength.safeParse(call.req.headers["content-length"]);
  if (!length.success) {
    throw call.req.headers["content-length"] === undefined ? new StoreError(411, "MissingContentLength", "a Content-Length is required") : badRequest("EntityTooLarge", "at most 5 GiB in one request");
  }
  const md5 = call.req.headers["content-md5"];
  return { length: length.data, ...(call.verified.payloadSha256 !== undefined && { sha256: call.verified.payloadSha256 }), ...(typeof md5 === "string" && { md5 }) };
}

function sendXml(res: ServerResponse, xml: string): void {
  res.writeHead(200, { "content-type": "application/xml", "content-length": Buffer.byteLength(xml) }).end(xml);
}

/**
 * A request's Content-Type, which presigned PUTs do not sign: refused (400) past what an object's
 * record keeps, so that nothing is written that could not be read back.
 */
function contentTypeOf(header: string | undefined): string | undefined {
  if (header !== undefined && header.length > MAX_CONTENT_TYPE) throw new StoreError(400, "InvalidArgument", `Content-Type longer than ${MAX_CONTENT_TYPE} characters`);
  return header;
}

const MAX_CONTENT_TYPE = 256;
