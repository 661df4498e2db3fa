import { CreateBucketCommand, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedStack, type EmbeddedStack } from "../../cli/embedded-stack.ts";
import { ConfigError } from "../../core/errors.ts";
import { MultipartUploadError, type ObjectStore } from "../ports.ts";
import { MemoryObjectStore } from "./memory-object-store.ts";
import { S3ObjectStore } from "./s3-object-store.ts";

const MiB = 1024 * 1024;
let stack: EmbeddedStack;
let s3: S3Client;
/** A client whose If-None-Match never reaches the server: a stand-in for a server that ignores it. */
let ignoresIfNoneMatch: S3Client;
let buckets = 0;

const makeClient = (): S3Client =>
  new S3Client({ endpoint: stack.endpoint, region: stack.region, forcePathStyle: true, credentials: stack.credentials });

beforeAll(async () => {
  stack = await startEmbeddedStack();
  s3 = makeClient();
  ignoresIfNoneMatch = makeClient();
  // At the build step, before SigV4 signs the request at finalize: the server sees a plain PUT.
  ignoresIfNoneMatch.middlewareStack.add((next) => async (args) => {
    const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
    for (const name of Object.keys(headers)) if (name.toLowerCase() === "if-none-match") delete headers[name];
    return next(args);
  }, { step: "build", name: "dropIfNoneMatch" });
});
afterAll(async () => {
  s3.destroy();
  ignoresIfNoneMatch.destroy();
  await stack.stop();
});

/** A fresh bucket per test, so tests cannot see each other's objects. */
async function freshBucket(): Promise<string> {
  const bucket = `test-${++buckets}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

const text = (bytes: Uint8Array | null): string | null => (bytes === null ? null : new TextDecoder().decode(bytes));

/** PUTs `body` to a presigned URL of the store, as a site would, and answers the ETag. */
type PutWithUrl<S> = (store: S, url: string, body: Uint8Array) => Promise<string>;

/** Bytes that differ from part to part, so that a part in the wrong place shows. */
function patterned(length: number): Uint8Array {
  const body = new Uint8Array(length);
  for (let i = 0; i < length; i += 4096) body[i] = (i / 4096) % 251;
  return body;
}

/** The ObjectStore contract: the in-memory fake must behave as the S3 adapter does. */
function objectStoreContract<S extends ObjectStore>(name: string, makeStore: () => Promise<S>, putWithUrl: PutWithUrl<S>): void {
  /** Begins an upload of `body` in 5 MiB parts and PUTs every part; answers the id and the part list. */
  async function uploadParts(store: S, key: string, body: Uint8Array) {
    const { uploadId, parts } = await store.presignMultipart(key, 60, body.length, 5 * MiB);
    const etags = [];
    for (const { partNumber, url } of parts) {
      etags.push({ partNumber, etag: await putWithUrl(store, url, body.subarray((partNumber - 1) * 5 * MiB, partNumber * 5 * MiB)) });
    }
    return { uploadId, parts: etags };
  }
  const refusal = (promise: Promise<unknown>) => promise.then(() => "completed", (error: unknown) => (error instanceof MultipartUploadError ? error.reason : String(error)));

  describe(`ObjectStore contract: ${name}`, () => {
    it("round-trips put, get, head, list and delete", async () => {
      // Prepare
      const store = await makeStore();
      // Execute
      const written = await store.put("rounds/1/round.json", '{"round":1}', { contentType: "application/json" });
      await store.put("rounds/10/round.json", new Uint8Array([1, 2, 3]));
      await store.put("models/0/weights.bin", new Uint8Array(0));
      // Assert
      expect(written).toBe(true);
      expect(text(await store.get("rounds/1/round.json"))).toBe('{"round":1}');
      expect(await store.get("rounds/10/round.json")).toEqual(new Uint8Array([1, 2, 3]));
      expect(await store.get("models/0/weights.bin")).toEqual(new Uint8Array(0));
      expect(await store.head("rounds/1/round.json")).toBe(11);
      expect(await store.head("models/0/weights.bin")).toBe(0);
      expect(await store.list("rounds/")).toEqual(["rounds/1/round.json", "rounds/10/round.json"]);
      expect(await store.list("")).toEqual(["models/0/weights.bin", "rounds/1/round.json", "rounds/10/round.json"]);
      await store.delete("rounds/1/round.json");
      expect(await store.get("rounds/1/round.json")).toBeNull();
      expect(await store.list("rounds/")).toEqual(["rounds/10/round.json"]);
    });

    it("answers null for a missing key and deletes missing keys silently", async () => {
      const store = await makeStore();
      expect(await store.get("nope")).toBeNull();
      expect(await store.head("nope")).toBeNull();
      expect(await store.list("nope/")).toEqual([]);
      await expect(store.delete("nope")).resolves.toBeUndefined();
    });

    it("writes with ifAbsent only when the key is free", async () => {
      // Prepare
      const store = await makeStore();
      // Execute
      const first = await store.put("federation.json", "first", { ifAbsent: true });
      const second = await store.put("federation.json", "second", { ifAbsent: true });
      const overwrite = await store.put("federation.json", "third");
      // Assert
      expect([first, second, overwrite]).toEqual([true, false, true]);
      expect(text(await store.get("federation.json"))).toBe("third");
    });

    it("lets exactly one of many concurrent ifAbsent writers win", async () => {
      const store = await makeStore();
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.put("audit/1.json", `writer ${i}`, { ifAbsent: true })));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(text(await store.get("audit/1.json"))).toBe(`writer ${results.indexOf(true)}`);
    });

    it("completes a multipart upload of presigned part PUTs, byte for byte, and shows nothing before", async () => {
      // Prepare
      const store = await makeStore();
      const body = patterned(12 * MiB + 7);
      const { uploadId, parts } = await uploadParts(store, "rounds/1/updates/a.bin", body);
      const before = await store.head("rounds/1/updates/a.bin");
      // Execute
      await store.completeMultipart("rounds/1/updates/a.bin", uploadId, parts);
      // Assert
      expect(before).toBeNull();
      expect(parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
      expect(parts.every((p) => /^"[0-9a-f]{32}"$/.test(p.etag))).toBe(true);
      expect(await store.head("rounds/1/updates/a.bin")).toBe(body.length);
      expect(Buffer.from((await store.get("rounds/1/updates/a.bin")) ?? []).equals(body)).toBe(true);
    });

    it("refuses part lists that do not complete the upload, for S3's reasons, and keeps it open until one does", async () => {
      // Prepare
      const store = await makeStore();
      const { uploadId, parts } = await uploadParts(store, "k.bin", patterned(5 * MiB + 1));
      const [first, second] = [parts[0]!, parts[1]!];
      // Execute
      const reasons = [
        await refusal(store.completeMultipart("k.bin", uploadId, [second, first])),
        await refusal(store.completeMultipart("k.bin", uploadId, [first, { ...second, etag: first.etag }])),
        await refusal(store.completeMultipart("k.bin", "no-such-upload", parts)),
        await refusal(store.completeMultipart("k.bin", uploadId, parts)),
        await refusal(store.completeMultipart("k.bin", uploadId, parts)),
      ];
      // Assert
      expect(reasons).toEqual(["InvalidPartOrder", "InvalidPart", "NoSuchUpload", "completed", "NoSuchUpload"]);
      expect(await store.head("k.bin")).toBe(5 * MiB + 1);
    });

    it("checks a multipart upload against S3's limits before beginning it", async () => {
      const store = await makeStore();
      await expect(store.presignMultipart("k", 60, 6 * MiB, MiB)).rejects.toThrow(`partBytes must be an integer from ${5 * MiB} to ${5 * 1024 ** 3}, got ${MiB}`);
      await expect(store.presignMultipart("k", 60, 10_001 * 5 * MiB, 5 * MiB)).rejects.toThrow(`${10_001 * 5 * MiB} bytes in ${5 * MiB}-byte parts take 10001 parts, more than S3's 10000`);
      await expect(store.presignMultipart("k", 60, 0, 5 * MiB)).rejects.toThrow("contentLength must be a positive integer, got 0");
    });

    it("keeps stored bytes independent of the caller's buffer", async () => {
      const store = await makeStore();
      const body = new Uint8Array([1, 2, 3]);
      await store.put("k", body);
      body[0] = 9;
      const read = await store.get("k");
      if (read) read[1] = 9;
      expect(await store.get("k")).toEqual(new Uint8Array([1, 2, 3]));
    });
  });
}

/** A site's PUT: plain fetch, the ETag from the response header. */
async function fetchPut(_store: unknown, url: string, body: Uint8Array): Promise<string> {
  const res = await fetch(url, { method: "PUT", body });
  if (!res.ok) throw new Error(`PUT answered ${res.status}: ${await res.text()}`);
  return res.headers.get("etag") ?? "";
}

objectStoreContract("S3ObjectStore on the embedded store", async () => new S3ObjectStore({ client: s3, bucket: await freshBucket() }), fetchPut);
objectStoreContract(
  "S3ObjectStore with emulateIfNoneMatch, on a server that ignores If-None-Match",
  async () => new S3ObjectStore({ client: ignoresIfNoneMatch, bucket: await freshBucket(), emulateIfNoneMatch: true }),
  fetchPut,
);
objectStoreContract("MemoryObjectStore", async () => new MemoryObjectStore(), (store, url, body) => store.putWithUrl(url, body));

describe("S3ObjectStore", () => {
  it("pages through ListObjectsV2 and strips its own prefix", async () => {
    // Prepare
    const bucket = await freshBucket();
    const store = new S3ObjectStore({ client: s3, bucket, prefix: "fed-a", listPageSize: 2 });
    const other = new S3ObjectStore({ client: s3, bucket, prefix: "fed-b/" });
    for (const key of ["sites/e.json", "sites/c.json", "sites/a.json", "sites/d.json", "sites/b.json"]) await store.put(key, "{}");
    await other.put("sites/z.json", "{}");
    // Execute
    const keys = await store.list("sites/");
    // Assert
    expect(keys).toEqual(["sites/a.json", "sites/b.json", "sites/c.json", "sites/d.json", "sites/e.json"]);
    expect(await other.list("")).toEqual(["sites/z.json"]);
    expect(await store.get("sites/z.json")).toBeNull();
  });

  it("round-trips a 12 MiB object through multipart upload", async () => {
    // Prepare
    const store = new S3ObjectStore({ client: s3, bucket: await freshBucket(), multipartThresholdBytes: 8 * MiB, partSizeBytes: 5 * MiB });
    const body = new Uint8Array(12 * MiB + 7);
    for (let i = 0; i < body.length; i += 4096) body[i] = (i / 4096) % 251;
    // Execute
    const written = await store.put("models/1/weights.bin", body);
    // Assert
    expect(written).toBe(true);
    expect(await store.head("models/1/weights.bin")).toBe(body.length);
    expect(Buffer.from((await store.get("models/1/weights.bin")) ?? []).equals(body)).toBe(true);
  });

  it.each([
    ["by the server (If-None-Match on CompleteMultipartUpload)", () => s3, false],
    ["by emulation, on a server that ignores If-None-Match", () => ignoresIfNoneMatch, true],
  ] as const)("honours ifAbsent on the multipart path %s", async (_how, client, emulateIfNoneMatch) => {
    const store = new S3ObjectStore({ client: client(), bucket: await freshBucket(), multipartThresholdBytes: 0, emulateIfNoneMatch });
    expect(await store.put("big.bin", new Uint8Array(6 * MiB), { ifAbsent: true })).toBe(true);
    expect(await store.put("big.bin", new Uint8Array(1), { ifAbsent: true })).toBe(false);
    expect(await store.head("big.bin")).toBe(6 * MiB);
  });

  it("aborts the multipart upload when a part fails, and rethrows", async () => {
    // Prepare
    const client = makeClient();
    const sent: string[] = [];
    client.middlewareStack.add((next, context) => async (args) => {
      sent.push(String(context.commandName));
      if (context.commandName === "UploadPartCommand" && sent.filter((name) => name === "UploadPartCommand").length === 2) throw new Error("link down");
      return next(args);
    }, { step: "initialize" });
    const store = new S3ObjectStore({ client, bucket: await freshBucket(), multipartThresholdBytes: 0, partSizeBytes: 5 * MiB });
    // Execute
    const put = store.put("models/2/weights.bin", new Uint8Array(11 * MiB));
    // Assert
    await expect(put).rejects.toThrow("link down");
    expect(sent).toEqual(["CreateMultipartUploadCommand", "UploadPartCommand", "UploadPartCommand", "AbortMultipartUploadCommand"]);
    expect(await store.head("models/2/weights.bin")).toBeNull();
    client.destroy();
  });

  it("propagates errors other than a missing key", async () => {
    const store = new S3ObjectStore({ client: s3, bucket: "no-such-bucket" });
    await expect(store.get("k")).rejects.toSatisfy((error) => error instanceof S3ServiceException && error.name === "NoSuchBucket");
    await expect(store.put("k", "v")).rejects.toBeInstanceOf(S3ServiceException);
    await expect(store.list("")).rejects.toBeInstanceOf(S3ServiceException);
  });

  it("signs Content-Length into presigned PUT URLs and leaves no empty-body checksum in them", async () => {
    // Prepare
    const store = new S3ObjectStore({ client: s3, bucket: "b", prefix: "p" });
    // Execute
    const url = new URL(await store.presignPut("rounds/1/updates/site-a.bin", 300, 1234));
    // Assert
    expect(url.pathname).toBe("/b/p/rounds/1/updates/site-a.bin");
    expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("content-length;host");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("300");
    expect([...url.searchParams.keys()].filter((name) => /checksum/i.test(name))).toEqual([]);
    await expect(store.presignPut("k", 60, -1)).rejects.toThrow("contentLength must be a non-negative integer, got -1");
  });

  it("presigns each part's PUT with its Content-Length signed and no empty-body checksum", async () => {
    // Prepare
    const bucket = await freshBucket();
    const store = new S3ObjectStore({ client: s3, bucket, prefix: "p" });
    // Execute
    const { uploadId, parts } = await store.presignMultipart("rounds/1/updates/site-a.bin", 300, 11 * MiB, 5 * MiB);
    // Assert
    const urls = parts.map((p) => new URL(p.url));
    expect(parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
    expect(urls.map((u) => [u.pathname, u.searchParams.get("partNumber"), u.searchParams.get("uploadId")])).toEqual(
      [1, 2, 3].map((n) => [`/${bucket}/p/rounds/1/updates/site-a.bin`, String(n), uploadId]),
    );
    expect(urls.map((u) => u.searchParams.get("X-Amz-SignedHeaders"))).toEqual(["content-length;host", "content-length;host", "content-length;host"]);
    expect(urls.flatMap((u) => [...u.searchParams.keys()].filter((name) => /checksum/i.test(name)))).toEqual([]);
  });

  it("validates part size at construction", () => {
    expect(() => new S3ObjectStore({ client: s3, bucket: "b", partSizeBytes: MiB })).toThrow(ConfigError);
    expect(() => new S3ObjectStore({ client: s3, bucket: "b", partSizeBytes: MiB })).toThrow("partSizeBytes must be at least 5242880, got 1048576");
  });
});

// The premise of the emulation tests above: without emulation, that stand-in server overwrites.
describe("If-None-Match on PutObject", () => {
  it("is refused with 412 by the embedded store, and overwrites through a server that ignores it unless emulated", async () => {
    // Prepare
    const bucket = await freshBucket();
    const put = (client: S3Client, Body: string) => client.send(new PutObjectCommand({ Bucket: bucket, Key: "k", Body, IfNoneMatch: "*" }));
    await put(s3, "one");
    // Execute
    const refused = await put(s3, "two").then(() => "written", (error: unknown) => (error instanceof S3ServiceException ? `${error.$metadata.httpStatusCode} ${error.name}` : String(error)));
    const ignored = await put(ignoresIfNoneMatch, "three");
    const plain = await new S3ObjectStore({ client: ignoresIfNoneMatch, bucket }).put("k", "four", { ifAbsent: true });
    const emulated = await new S3ObjectStore({ client: ignoresIfNoneMatch, bucket, emulateIfNoneMatch: true }).put("k", "five", { ifAbsent: true });
    // Assert
    expect(refused).toBe("412 PreconditionFailed");
    expect(ignored.$metadata.httpStatusCode).toBe(200);
    expect([plain, emulated]).toEqual([true, false]);
    expect(text(await new S3ObjectStore({ client: s3, bucket }).get("k"))).toBe("four");
  });
});
