/**
 * @module
 * Checks a request's AWS Signature Version 4 by signing it again with the stored secret through
 * the AWS SDK's own signer (@smithy/signature-v4) and comparing the signatures in constant time:
 * header-signed SDK requests (`Authorization`) within S3's 15-minute clock skew, and presigned URLs
 * (`X-Amz-*` query) until `X-Amz-Expires` runs out. Every refusal is a 403.
 */
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import type { Checksum, HeaderBag, QueryParameterBag, SourceData } from "@smithy/types";
import { z } from "zod";
import { StoreError } from "./store-error.ts";

export interface StoreCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** A request as it arrived: the path and query exactly as sent, lower-case header names. */
export interface ArrivedRequest {
  readonly method: string;
  readonly rawPath: string;
  readonly query: QueryParameterBag;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The whole body, when the handler buffered it (SQS); a streamed body is checked against its declared hash. */
  readonly body?: Uint8Array;
}

export interface SignatureContext {
  readonly credentials: StoreCredentials;
  readonly region: string;
  /** `s3` or `sqs`: the signing service the request must name. */
  readonly service: string;
  readonly now: number;
}

/** What a verified request declared about its body: a hex sha256 the body must match, if any. */
export interface Verified {
  readonly presigned: boolean;
  readonly payloadSha256?: string;
}

const SKEW_MS = 15 * 60 * 1000;
const MAX_EXPIRES = 7 * 24 * 3600;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

const denied = (code: string, message: string): StoreError => new StoreError(403, code, message);

const AmzDate = z.string().regex(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/);
const Scope = z.tuple([z.string().min(1), z.string().regex(/^\d{8}$/), z.string().min(1), z.string().min(1), z.literal("aws4_request")]);
const SignedHeaders = z.string().regex(/^[a-z0-9-]+(;[a-z0-9-]+)*$/).transform((s) => s.split(";"));
const Signature = z.string().regex(/^[0-9a-f]{64}$/);
const AUTH_HEADER = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([^,\s]+)$/;
const Presigned = z.object({
  "X-Amz-Algorithm": z.literal("AWS4-HMAC-SHA256"),
  "X-Amz-Credential": z.string(),
  "X-Amz-Date": AmzDate,
  "X-Amz-Expires": z.string().regex(/^\d{1,6}$/).transform(Number).pipe(z.number().int().min(1).max(MAX_EXPIRES)),
  "X-Amz-SignedHeaders": SignedHeaders,
  "X-Amz-Signature": Signature,
});

/**
 * Verifies `request` or throws a 403 `StoreError`.
 * @example
 * await checkSignature({ method, rawPath, query, headers }, { credentials, region: "us-east-1", service: "s3", now: Date.now() });
 */
export async function checkSignature(request: ArrivedRequest, context: SignatureContext): Promise<Verified> {
  const header = request.headers.authorization;
  const presigned = request.query["X-Amz-Signature"] !== undefined;
  if (header !== undefined && presigned) throw denied("AccessDenied", "a request carries one signature, not two");
  if (header !== undefined) return checkHeaderSigned(request, header, context);
  if (presigned && context.service === "s3") return checkPresigned(request, context);
  throw denied("AccessDenied", "the request is not signed");
}

async function checkHeaderSigned(request: ArrivedRequest, header: string, context: SignatureContext): Promise<Verified> {
  const [, credential = "", signedList = "", signature = ""] = AUTH_HEADER.exec(header) ?? [];
  const names = SignedHeaders.safeParse(signedList);
  const date = AmzDate.safeParse(request.headers["x-amz-date"]);
  if (!names.success || !Signature.safeParse(signature).success || !date.success) throw denied("AccessDenied", "the Authorization header is malformed");
  if (!names.data.includes("host") || !names.data.includes("x-amz-date")) throw denied("AccessDenied", "host and x-amz-date must be signed");
  const signingDate = checkScope(credential, date.data, context);
  if (Math.abs(context.now - signingDate.getTime()) > SKEW_MS) throw denied("RequestTimeTooSkewed", "the request time is more than 15 minutes from the server's");
  const declared = request.headers["x-amz-content-sha256"];
  if (declared !== undefined && !names.data.includes("x-amz-content-sha256")) throw denied("AccessDenied", "x-amz-content-sha256 must be signed");
  if (declared !== undefined && declared !== "UNSIGNED-PAYLOAD" && !HEX_SHA256.test(declared)) throw new StoreError(501, "NotImplemented", "streaming (aws-chunked) uploads are not supported");
  if (declared !== undefined && HEX_SHA256.test(declared) && request.body !== undefined && declared !== sha256Hex(request.body)) {
    throw new StoreError(400, "XAmzContentSHA256Mismatch", "the body does not match its signed sha256");
  }
  const signed = await signerFor(context).sign(
    { method: request.method, protocol: "http:", hostname: "", path: request.rawPath, query: withoutSignature(request.query), headers: pick(request.headers, names.data), body: request.body },
    { signingDate, signingRegion: context.region, signingService: context.service },
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(signed.headers.authorization ?? "")?.[1] ?? "";
  if (!sameText(expected, signature)) throw denied("SignatureDoesNotMatch", "the request signature does not match");
  return { presigned: false, ...(declared !== undefined && HEX_SHA256.test(declared) && { payloadSha256: declared }) };
}

async function checkPresigned(request: ArrivedRequest, context: SignatureContext): Promise<Verified> {
  const parsed = Presigned.safeParse(request.query);
  if (!parsed.success) throw denied("AccessDenied", "the presigned URL is malformed");
  const q = parsed.data;
  if (!q["X-Amz-SignedHeaders"].includes("host")) throw denied("AccessDenied", "host must be signed");
  const signingDate = checkScope(q["X-Amz-Credential"], q["X-Amz-Date"], context);
  if (context.now > signingDate.getTime() + q["X-Amz-Expires"] * 1000) throw denied("AccessDenied", "Request has expired");
  if (signingDate.getTime() - context.now > SKEW_MS) throw denied("AccessDenied", "Request is not yet valid");
  // A presigned URL's payload is UNSIGNED-PAYLOAD: hashed as that, neither hoisted into the query nor signed.
  const payload = "x-amz-content-sha256";
  const headers: HeaderBag = { [payload]: "UNSIGNED-PAYLOAD", ...pick(request.headers, q["X-Amz-SignedHeaders"]) };
  const amzSigned = q["X-Amz-SignedHeaders"].filter((name) => name.startsWith("x-amz-"));
  const signed = await signerFor(context).presign(
    { method: request.method, protocol: "http:", hostname: "", path: request.rawPath, query: withoutSignature(request.query), headers },
    {
      signingDate, expiresIn: q["X-Amz-Expires"], signingRegion: context.region, signingService: context.service,
      unhoistableHeaders: new Set([payload, ...amzSigned]), ...(!amzSigned.includes(payload) && { unsignableHeaders: new Set([payload]) }),
    },
  );
  const expected = signed.query?.["X-Amz-Signature"];
  if (typeof expected !== "string" || !sameText(expected, q["X-Amz-Signature"])) throw denied("SignatureDoesNotMatch", "the URL signature does not match");
  return { presigned: true };
}

/** Checks the credential scope against this store's key, region and service; answers the signing date. */
function checkScope(credential: string, amzDate: string, context: SignatureContext): Date {
  const scope = Scope.safeParse(credential.split("/"));
  if (!scope.success) throw denied("AccessDenied", "the credential scope is malformed");
  const [accessKeyId, day, region, service] = scope.data;
  if (accessKeyId !== context.credentials.accessKeyId) throw denied("InvalidAccessKeyId", "the access key is not this store's");
  if (day !== amzDate.slice(0, 8) || region !== context.region || service !== context.service) throw denied("SignatureDoesNotMatch", "the credential scope does not match the request");
  const [, y, mo, d, h, mi, s] = (/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate) ?? []).map(Number);
  return new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s));
}

function signerFor(context: SignatureContext): SignatureV4 {
  // S3 signs the path as sent; other services normalise and escape it again (the SDK's own settings).
  return new SignatureV4({ credentials: context.credentials, region: context.region, service: context.service, sha256: NodeSha256, uriEscapePath: context.service !== "s3", applyChecksum: false });
}

function withoutSignature(query: QueryParameterBag): QueryParameterBag {
  const { "X-Amz-Signature": _signature, ...rest } = query;
  return rest;
}

function pick(headers: ArrivedRequest["headers"], names: readonly string[]): HeaderBag {
  const out: HeaderBag = {};
  for (const name of names) {
    const value = headers[name];
    if (value === undefined) throw denied("AccessDenied", `signed header ${name} is missing`);
    out[name] = value;
  }
  return out;
}

function sameText(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}

function sha256Hex(body: Uint8Array): string {
  return createHash("sha256").update(body).digest("hex");
}

/** The signer's hash: SHA-256, or HMAC-SHA-256 when given a key. */
class NodeSha256 implements Checksum {
  #hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.#hash = this.#fresh();
  }
  update(data: Uint8Array): void {
    this.#hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {
    this.#hash = this.#fresh();
  }
  #fresh(): Hash | Hmac {
    if (this.secret === undefined) return createHash("sha256");
    const key = typeof this.secret === "string" ? Buffer.from(this.secret) : ArrayBuffer.isView(this.secret) ? Buffer.from(this.secret.buffer, this.secret.byteOffset, this.secret.byteLength) : Buffer.from(this.secret);
    return createHmac("sha256", key);
  }
}
