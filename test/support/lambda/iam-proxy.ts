/**
 * @module
 * IAM in front of the embedded store, for one function of the Lambda harness: an HTTP proxy on
 * 127.0.0.1 that the function's AWS SDK (and every URL it presigns) addresses instead of the store,
 * and that lets a request through only when the function's policy (`infra/policy.ts`, the
 * statements infra deploys) allows each action it takes on each resource: an explicit deny wins,
 * then any allow, else denied — IAM's evaluation for one identity-based policy. A denied request is
 * answered as S3 or SQS answer it (AccessDenied) and recorded as a violation of the harness.
 *
 * S3 requests are mapped to IAM actions as AWS documents them for path-style requests: GET/HEAD
 * of an object `s3:GetObject`, PUT `s3:PutObject` (parts and multipart creation and completion
 * too), DELETE `s3:DeleteObject` (with an upload id `s3:AbortMultipartUpload`), GET of the bucket
 * `s3:ListBucket`; SQS calls `sqs:<Operation>` on the queue's ARN; any other call at a bucket is
 * refused as unmapped. A bucket policy's deny statements apply on top (the audit bucket's: no PUT
 * without `If-None-Match`). KMS is not modelled (the embedded store does not encrypt): the key's
 * statement goes unchecked here.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { BucketStatement, Statement } from "../../../infra/policy.ts";

export interface IamProxy {
  readonly url: string;
  /** Requests let through, by `action`. */
  readonly allowed: Map<string, number>;
  /** Requests let through, by `action` and the key's area: the bucket and the key's first folder, a run's `runs/{n}` shown as `runs/N` (`s3:PutObject consilium/runs/N/models/`). */
  readonly byArea: Map<string, number>;
  close(): Promise<void>;
}

export interface IamProxyOptions {
  readonly name: string;
  readonly target: URL;
  readonly statements: readonly Statement<string>[];
  /** Queue URL → queue ARN, for SQS calls. */
  readonly queues: ReadonlyMap<string, string>;
  /** Bucket ARN → its bucket policy (its deny statements apply to everyone, as in S3). */
  readonly bucketPolicies?: ReadonlyMap<string, readonly BucketStatement[]>;
  readonly onViolation: (message: string) => void;
}

const glob = (pattern: string): RegExp => new RegExp(`^${pattern.split("*").map((part) => part.split("?").map((s) => s.replace(/[.+^${}()|[\]\\]/g, "\\$&")).join(".")).join(".*")}$`);

/** Whether the statements allow `action` on `resource`. */
export function allows(statements: readonly Statement<string>[], action: string, resource: string): boolean {
  const matches = (s: Statement<string>) => s.actions.some((a) => glob(a).test(action)) && s.resources.some((r) => glob(r).test(resource));
  if (statements.some((s) => s.effect === "deny" && matches(s))) return false;
  return statements.some((s) => s.effect !== "deny" && matches(s));
}

/** The condition keys this proxy knows how to read from a request; a policy with another is refused at start, never ignored. */
const KNOWN_CONDITIONS = new Set(["Null s3:if-none-match"]);

/** Whether a bucket policy's deny statement refuses `action` on `resource` for a request with these headers. */
export function bucketDenies(bucketArn: string, statements: readonly BucketStatement[], action: string, resource: string, headers: IncomingMessage["headers"]): BucketStatement | undefined {
  return statements.find((s) => {
    if (s.effect !== "deny" || !s.actions.some((a) => glob(a).test(action))) return false;
    if (!s.paths.some((p) => glob(`${bucketArn}/${p}`).test(resource))) return false;
    // Null s3:if-none-match "true": the request has no If-None-Match header.
    return s.conditions.every((c) => (headers["if-none-match"] === undefined) === (c.values[0] === "true"));
  });
}

/** The (action, resource) pairs an S3 or SQS request takes. */
export function requestActions(method: string, url: URL, headers: IncomingMessage["headers"], body: Buffer, queues: ReadonlyMap<string, string>): { action: string; resource: string }[] {
  const target = headers["x-amz-target"];
  if (typeof target === "string" && target.startsWith("AmazonSQS.")) {
    let queueUrl = "";
    try {
      queueUrl = String((JSON.parse(body.toString("utf8")) as { QueueUrl?: unknown }).QueueUrl ?? "");
    } catch {
      // An unreadable body acts on no queue: nothing can allow it.
    }
    return [{ action: `sqs:${target.slice("AmazonSQS.".length)}`, resource: queues.get(queueUrl) ?? `unknown queue ${queueUrl}` }];
  }
  const [bucket = "", ...rest] = url.pathname.slice(1).split("/");
  const key = rest.map((s) => decodeURIComponent(s)).join("/");
  const q = url.searchParams;
  if (rest.length === 0 || key === "") {
    const at = `arn:aws:s3:::${bucket}`;
    if (method === "PUT" && [...q.keys()].length === 0) return [{ action: "s3:CreateBucket", resource: at }];
    if (method === "GET" && q.has("location")) return [{ action: "s3:GetBucketLocation", resource: at }];
    if (method === "GET" && q.has("uploads")) return [{ action: "s3:ListBucketMultipartUploads", resource: at }];
    if (method === "GET" && q.has("versions")) return [{ action: "s3:ListBucketVersions", resource: at }];
    if ((method === "GET" || method === "HEAD") && [...q.keys()].every((k) => ["list-type", "prefix", "continuation-token", "start-after", "max-keys", "delimiter", "encoding-type", "fetch-owner"].includes(k) || k === "x-id" || k.startsWith("x-amz-") || k.startsWith("X-Amz-"))) return [{ action: "s3:ListBucket", resource: at }];
    // Anything else at the bucket (a multi-object delete, a configuration call): no statement here names it, so it is refused and seen.
    return [{ action: `s3:Unmapped ${method} ?${[...q.keys()].join("&")}`, resource: at }];
  }
  const object = `arn:aws:s3:::${bucket}/${key}`;
  switch (method) {
    case "GET":
    case "HEAD":
      return [{ action: q.has("uploadId") ? "s3:ListMultipartUploadParts" : "s3:GetObject", resource: object }];
    case "PUT": {
      const source = headers["x-amz-copy-source"];
      const copy = typeof source === "string" ? [{ action: "s3:GetObject", resource: `arn:aws:s3:::${decodeURIComponent(source.replace(/^\//, "").split("?")[0]!)}` }] : [];
      return [{ action: "s3:PutObject", resource: object }, ...copy];
    }
    case "POST":
      return [{ action: "s3:PutObject", resource: object }];
    case "DELETE":
      return [{ action: q.has("uploadId") ? "s3:AbortMultipartUpload" : "s3:DeleteObject", resource: object }];
    default:
      return [{ action: `s3:${method}`, resource: object }];
  }
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function deny(res: ServerResponse, sqs: boolean, message: string): void {
  if (sqs) res.writeHead(400, { "content-type": "application/x-amz-json-1.0", "x-amzn-query-error": "AccessDenied;Sender" }).end(JSON.stringify({ __type: "com.amazon.coral.service#AccessDeniedException", message }));
  else res.writeHead(403, { "content-type": "application/xml" }).end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>${message.replace(/[<>&]/g, "")}</Message></Error>`);
}

/** The area of a resource: a bucket's name and its key's first folder (after a run's `runs/{n}`), or the resource itself. */
export function areaOf(resource: string): string {
  const m = /^arn:aws:s3:::([^/]+)\/(runs\/\d+\/)?([^/]*\/?)/.exec(resource);
  if (!m) return resource.replace(/^arn:aws:(s3|sqs|kms):[^:]*:[^:]*:?/, "");
  return `${m[1]}/${m[2] ? "runs/N/" : ""}${m[3]}`;
}

export async function startIamProxy(o: IamProxyOptions): Promise<IamProxy> {
  for (const policy of o.bucketPolicies?.values() ?? []) {
    for (const c of policy.flatMap((s) => s.conditions)) if (!KNOWN_CONDITIONS.has(`${c.test} ${c.variable}`)) throw new Error(`the harness's IAM proxy cannot evaluate the condition ${c.test} ${c.variable}`);
  }
  const allowed = new Map<string, number>();
  const byArea = new Map<string, number>();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readAll(req);
    const url = new URL(req.url ?? "/", "http://proxy");
    const taken = requestActions(req.method ?? "GET", url, req.headers, body, o.queues);
    const refused = taken.find((t) => !allows(o.statements, t.action, t.resource));
    const bucketDenied = refused ? undefined : taken.find((t) => [...(o.bucketPolicies ?? [])].some(([arn, policy]) => bucketDenies(arn, policy, t.action, t.resource, req.headers) !== undefined));
    if (refused || bucketDenied) {
      const t = (refused ?? bucketDenied)!;
      const message = refused ? `${o.name}: ${t.action} on ${t.resource} is not allowed by its policy` : `${o.name}: ${t.action} on ${t.resource} is refused by the bucket's policy`;
      o.onViolation(message);
      deny(res, typeof req.headers["x-amz-target"] === "string", message);
      return;
    }
    for (const t of taken) {
      allowed.set(t.action, (allowed.get(t.action) ?? 0) + 1);
      const area = `${t.action} ${areaOf(t.resource)}`;
      byArea.set(area, (byArea.get(area) ?? 0) + 1);
    }
    // Forwarded as sent, Host header included, so the store checks the signature the client made.
    const upstream = httpRequest({ host: o.target.hostname, port: o.target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502).end(String(error));
      else res.destroy(error);
    });
    upstream.end(body);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      o.onViolation(`${o.name}: its IAM proxy failed: ${String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", resolveListen));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    allowed,
    byArea,
    close: () => new Promise<void>((resolveClose) => {
      server.closeAllConnections();
      server.close(() => resolveClose());
    }),
  };
}
