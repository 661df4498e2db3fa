import { CreateMultipartUploadCommand, GetObjectCommand, ListObjectsV2Command, S3ServiceException, UploadPartCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3ObjectStore } from "../../functions/adapters/s3-object-store.ts";
import { MultipartUploadError } from "../../functions/ports.ts";
import { startEmbeddedStack, type EmbeddedStack } from "../embedded-stack.ts";

const MiB = 1024 * 1024;
const text = (bytes: Uint8Array | null) => (bytes === null ? null : new TextDecoder().decode(bytes));
const refusal = (promise: Promise<unknown>) => promise.then(() => "completed", (error: unknown) => (error instanceof MultipartUploadError ? error.reason : String(error)));
const errorName = (promise: Promise<unknown>) => promise.then(() => "answered", (error: unknown) => (error instanceof S3ServiceException ? `${error.$metadata.httpStatusCode} ${error.name}` : String(error)));

/** Bytes that differ from part to part, so that a part in the wrong place shows. */
function patterned(length: number): Uint8Array {
  const body = new Uint8Array(length);
  for (let i = 0; i < length; i += 4096) body[i] = (i / 4096) % 251;
  return body;
}

describe("the embedded store's S3 operations, through the coordinator's S3ObjectStore", () => {
  let stack: EmbeddedStack;
  let store: S3ObjectStore;
  beforeAll(async () => {
    stack = await startEmbeddedStack();
    store = stack.store;
  });
  afterAll(() => stack.stop());

  /** Begins an upload of `body` in 5 MiB parts and PUTs every part as a site would; answers the id and the part list. */
  async function uploadParts(key: string, body: Uint8Array) {
    const { uploadId, parts } = await store.presignMultipart(key, 60, body.length, 5 * MiB);
    const etags = [];
    for (const { partNumber, url } of parts) {
      const res = await fetch(url, { method: "PUT", body: body.subarray((partNumber - 1) * 5 * MiB, partNumber * 5 * MiB) });
      etags.push({ partNumber, etag: res.headers.get("etag") ?? "" });
    }
    return { uploadId, parts: etags };
  }

  it("round-trips put, get, head, list and delete, an empty object and keys with spaces and accents included", async () => {
    // Execute
    await store.put("ops/1/round.json", '{"round":1}', { contentType: "application/json" });
    await store.put("ops/10/round.json", new Uint8Array([1, 2, 3]));
    await store.put("ops/empty.bin", new Uint8Array(0));
    await store.put("ops/Zürich hospital.json", "{}");
    const chunks: Uint8Array[] = [];
    for await (const chunk of (await store.getStream("ops/10/round.json")) ?? []) chunks.push(chunk);
    // Assert
    expect(text(await store.get("ops/1/round.json"))).toBe('{"round":1}');
    expect(Buffer.concat(chunks)).toEqual(Buffer.from([1, 2, 3]));
    expect(await store.get("ops/empty.bin")).toEqual(new Uint8Array(0));
    expect([await store.head("ops/1/round.json"), await store.head("ops/empty.bin"), await store.head("ops/none")]).toEqual([11, 0, null]);
    expect(await store.list("ops/")).toEqual(["ops/1/round.json", "ops/10/round.json", "ops/Zürich hospital.json", "ops/empty.bin"]);
    await store.delete("ops/1/round.json");
    await store.delete("ops/never-written");
    expect(await store.get("ops/1/round.json")).toBeNull();
    expect(await store.getStream("ops/1/round.json")).toBeNull();
  });

  it("completes a multipart upload byte for byte with S3's ETag, and shows nothing before", async () => {
    // Prepare
    const body = patterned(12 * MiB + 7);
    const { uploadId, parts } = await uploadParts("mp/a.bin", body);
    const before = await store.head("mp/a.bin");
    // Execute
    await store.completeMultipart("mp/a.bin", uploadId, parts);
    const { ETag } = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: "mp/a.bin" }));
    // Assert
    expect(before).toBeNull();
    expect(parts.every((p) => /^"[0-9a-f]{32}"$/.test(p.etag))).toBe(true);
    expect(ETag).toMatch(/^"[0-9a-f]{32}-3"$/);
    expect(Buffer.from((await store.get("mp/a.bin")) ?? []).equals(body)).toBe(true);
  });

  it("refuses part lists that do not complete the upload, for S3's reasons, and keeps it open until one does", async () => {
    // Prepare
    const { uploadId, parts } = await uploadParts("mp/k.bin", patterned(10 * MiB + 1));
    const [first, second, third] = [parts[0]!, parts[1]!, parts[2]!];
    const small = await stack.s3.send(new CreateMultipartUploadCommand({ Bucket: stack.bucket, Key: "mp/small.bin" }));
    const tiny = [];
    for (const PartNumber of [1, 2]) {
      const { ETag = "" } = await stack.s3.send(new UploadPartCommand({ Bucket: stack.bucket, Key: "mp/small.bin", UploadId: small.UploadId, PartNumber, Body: "x" }));
      tiny.push({ partNumber: PartNumber, etag: ETag });
    }
    // Execute
    const reasons = [
      await refusal(store.completeMultipart("mp/k.bin", uploadId, [second, first, third])),
      await refusal(store.completeMultipart("mp/k.bin", uploadId, [first, { ...second, etag: first.etag }, third])),
      await refusal(store.completeMultipart("mp/k.bin", uploadId, [first, { partNumber: 4, etag: third.etag }])),
      await refusal(store.completeMultipart("mp/k.bin", "0".repeat(32), parts)),
      await refusal(store.completeMultipart("mp/other.bin", uploadId, parts)),
      await refusal(store.completeMultipart("mp/small.bin", small.UploadId ?? "", tiny)),
      await refusal(store.completeMultipart("mp/k.bin", uploadId, parts)),
      await refusal(store.completeMultipart("mp/k.bin", uploadId, parts)),
    ];
    // Assert
    expect(reasons).toEqual(["InvalidPartOrder", "InvalidPart", "InvalidPart", "NoSuchUpload", "NoSuchUpload", "EntityTooSmall", "completed", "NoSuchUpload"]);
    expect(await store.head("mp/k.bin")).toBe(10 * MiB + 1);
  });

  it("writes a multipart object with ifAbsent only over no object", async () => {
    const big = new S3ObjectStore({ client: stack.s3, bucket: stack.bucket, multipartThresholdBytes: 0, partSizeBytes: 5 * MiB });
    expect(await big.put("mp/once.bin", new Uint8Array(6 * MiB), { ifAbsent: true })).toBe(true);
    expect(await big.put("mp/once.bin", new Uint8Array(1), { ifAbsent: true })).toBe(false);
    expect(await store.head("mp/once.bin")).toBe(6 * MiB);
  });

  it("answers what it does not do with NotImplemented and a missing bucket with NoSuchBucket, never an approximation", async () => {
    // Execute
    const answers = await Promise.all([
      errorName(stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: "ops/10/round.json", Range: "bytes=0-1" }))),
      errorName(stack.s3.send(new ListObjectsV2Command({ Bucket: stack.bucket, Delimiter: "/" }))),
      errorName(new S3ObjectStore({ client: stack.s3, bucket: "no-such-bucket" }).get("k")),
    ]);
    // Assert
    expect(answers).toEqual(["501 NotImplemented", "501 NotImplemented", "404 NoSuchBucket"]);
  });
});
