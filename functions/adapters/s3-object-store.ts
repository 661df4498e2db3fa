/**
 * @module
 * The `ObjectStore` port on S3 or any S3-compatible server (the embedded one on a single machine).
 */
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3ServiceException, UploadPartCommand,
  type CompletedPart, type S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { ConfigError } from "../../core/errors.ts";
import type { UploadedPart } from "../../core/schemas/upload.ts";
import { MultipartUploadError, type MultipartRefusal, type ObjectStore, type PresignedMultipart, type PutOptions } from "../ports.ts";
import { partSizes } from "./part-sizes.ts";

const MiB = 1024 * 1024;
/** S3 refuses to complete an upload whose parts, but for the last, are smaller. */
const MIN_PART_BYTES = 5 * MiB;
const REFUSALS: ReadonlySet<string> = new Set<MultipartRefusal>(["NoSuchUpload", "InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML"]);

/** Where and how `S3ObjectStore` writes. */
export interface S3ObjectStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Prepended to every key; a trailing `/` is added when missing. */
  readonly prefix?: string;
  /** Bodies larger than this go through multipart upload (default 8 MiB). */
  readonly multipartThresholdBytes?: number;
  /** Multipart part size, at least S3's 5 MiB minimum (default 8 MiB). */
  readonly partSizeBytes?: number;
  /** Keys per ListObjectsV2 page (default: the server's, 1000 on S3). */
  readonly listPageSize?: number;
  /**
   * For servers that ignore `If-None-Match` (as fauxqs 1.9 did): `ifAbsent` checks with HEAD first, writes to a key
   * serialised in this process. Two processes can still both pass the HEAD; only the server can close that race.
   */
  readonly emulateIfNoneMatch?: boolean;
}

/**
 * Stores objects in one bucket under an optional prefix. `get` and `head` answer `null` for a missing key and
 * let every other error propagate (a missing bucket too, except on `head`: a 404 to HEAD names neither).
 * @example
 * const store = new S3ObjectStore({ client: new S3Client({}), bucket: "consilium-state" });
 * await store.put("rounds/1/round.json", json, { ifAbsent: true });
 */
export class S3ObjectStore implements ObjectStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #options: S3ObjectStoreOptions & { readonly partSizeBytes: number; readonly multipartThresholdBytes: number };

  constructor(options: S3ObjectStoreOptions) {
    const { prefix = "", partSizeBytes = 8 * MiB, multipartThresholdBytes = 8 * MiB } = options;
    if (!(partSizeBytes >= MIN_PART_BYTES)) throw new ConfigError(`partSizeBytes must be at least ${MIN_PART_BYTES}, got ${partSizeBytes}`);
    if (!(multipartThresholdBytes >= 0)) throw new ConfigError(`multipartThresholdBytes must be >= 0, got ${multipartThresholdBytes}`);
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#prefix = prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
    this.#options = { ...options, partSizeBytes, multipartThresholdBytes };
  }

  async get(key: string): Promise<Uint8Array | null> {
    const out = await orNull(this.#client.send(new GetObjectCommand(this.#at(key))));
    return out === null ? null : ((await out.Body?.transformToByteArray()) ?? new Uint8Array());
  }

  async getStream(key: string): Promise<AsyncIterable<Uint8Array> | null> {
    const out = await orNull(this.#client.send(new GetObjectCommand(this.#at(key))));
    if (out === null) return null;
    // In Node the body is a Readable: iterating it pulls from the socket as the reader goes.
    return (out.Body as AsyncIterable<Uint8Array> | undefined) ?? emptyStream();
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<boolean> {
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    if (!this.#options.emulateIfNoneMatch) return this.#write(key, bytes, options);
    return this.#locked(key, async () => (options.ifAbsent && (await this.head(key)) !== null ? false : this.#write(key, bytes, options)));
  }

  async head(key: string): Promise<number | null> {
    const out = await orNull(this.#client.send(new HeadObjectCommand(this.#at(key))));
    return out === null ? null : (out.ContentLength ?? 0);
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const input = { Bucket: this.#bucket, Prefix: this.#prefix + prefix, ContinuationToken, MaxKeys: this.#options.listPageSize };
      const page = await this.#client.send(new ListObjectsV2Command(input));
      for (const item of page.Contents ?? []) if (item.Key !== undefined) keys.push(item.Key.slice(this.#prefix.length));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken !== undefined);
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    await this.#client.send(new DeleteObjectCommand(this.#at(key)));
  }

  async presignGet(key: string, expiresSeconds: number): Promise<string> {
    return getSignedUrl(this.#client, new GetObjectCommand(this.#at(key)), { expiresIn: expiresSeconds });
  }

  async presignPut(key: string, expiresSeconds: number, contentLength: number): Promise<string> {
    if (!Number.isSafeInteger(contentLength) || contentLength < 0) throw new RangeError(`contentLength must be a non-negative integer, got ${contentLength}`);
    const command = new PutObjectCommand({ ...this.#at(key), ContentLength: contentLength });
    command.middlewareStack.add(dropChecksumHeaders, DROP_CHECKSUM_HEADERS);
    return getSignedUrl(this.#client, command, { expiresIn: expiresSeconds });
  }

  async presignMultipart(key: string, expiresSeconds: number, contentLength: number, partBytes: number): Promise<PresignedMultipart> {
    const sizes = partSizes(contentLength, partBytes, MIN_PART_BYTES);
    // No checksum algorithm: the holder's part PUTs carry none, and S3 would refuse parts without the one declared here.
    const { UploadId } = await this.#client.send(new CreateMultipartUploadCommand({ ...this.#at(key), ContentType: "application/octet-stream" }));
    if (UploadId === undefined) throw new Error(`CreateMultipartUpload for ${key} returned no UploadId`);
    const parts = await Promise.all(sizes.map(async (ContentLength, i) => {
      const command = new UploadPartCommand({ ...this.#at(key), UploadId, PartNumber: i + 1, ContentLength });
      command.middlewareStack.add(dropChecksumHeaders, DROP_CHECKSUM_HEADERS);
      return { partNumber: i + 1, url: await getSignedUrl(this.#client, command, { expiresIn: expiresSeconds }) };
    }));
    return { uploadId: UploadId, parts };
  }

  async completeMultipart(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<void> {
    const Parts = parts.map(({ partNumber, etag }) => ({ PartNumber: partNumber, ETag: etag }));
    const complete = async (): Promise<void> => {
      await this.#client.send(new CompleteMultipartUploadCommand({ ...this.#at(key), UploadId: uploadId, MultipartUpload: { Parts } })).catch((error: unknown) => {
        if (error instanceof S3ServiceException && REFUSALS.has(error.name)) throw new MultipartUploadError(error.name as MultipartRefusal, error.message);
        throw error;
      });
    };
    // Completing writes the key: under emulation it must not land between another writer's HEAD and PUT.
    return this.#options.emulateIfNoneMatch ? this.#locked(key, complete) : complete();
  }

  #at(key: string): { Bucket: string; Key: string } {
    return { Bucket: this.#bucket, Key: this.#prefix + key };
  }

  #locked<T>(key: string, task: () => Promise<T>): Promise<T> {
    return withKeyLock(`${this.#bucket}/${this.#prefix}${key}`, task);
  }

  async #write(key: string, Body: Uint8Array, options: PutOptions, attempt = 1): Promise<boolean> {
    const IfNoneMatch = options.ifAbsent ? "*" : undefined;
    const input = { ...this.#at(key), ContentType: options.contentType, IfNoneMatch };
    try {
      if (Body.byteLength > this.#options.multipartThresholdBytes) await this.#multipart(input, Body);
      else await this.#client.send(new PutObjectCommand({ ...input, Body }));
      return true;
    } catch (error) {
      if (IfNoneMatch && isS3Error(error, "PreconditionFailed")) return false;
      // S3 answers 409 while another conditional write to the key is in flight, and asks for a retry.
      if (IfNoneMatch && isS3Error(error, "ConditionalRequestConflict") && attempt < 4) return this.#write(key, Body, options, attempt + 1);
      throw error;
    }
  }

  async #multipart(input: { Bucket: string; Key: string; ContentType?: string; IfNoneMatch?: string }, body: Uint8Array): Promise<void> {
    const { IfNoneMatch, ContentType, ...at } = input;
    const size = this.#options.partSizeBytes;
    // CRC32 declared up front: the SDK checksums every part by default, and S3 rejects part checksums the upload did not declare.
    const { UploadId } = await this.#client.send(new CreateMultipartUploadCommand({ ...at, ContentType, ChecksumAlgorithm: "CRC32" }));
    if (UploadId === undefined) throw new Error(`CreateMultipartUpload for ${at.Key} returned no UploadId`);
    try {
      const Parts: CompletedPart[] = [];
      for (let offset = 0, PartNumber = 1; offset < body.byteLength; offset += size, PartNumber++) {
        const Body = body.subarray(offset, offset + size);
        const part = await this.#client.send(new UploadPartCommand({ ...at, UploadId, PartNumber, Body, ChecksumAlgorithm: "CRC32" }));
        Parts.push({ PartNumber, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 });
      }
      await this.#client.send(new CompleteMultipartUploadCommand({ ...at, UploadId, MultipartUpload: { Parts }, IfNoneMatch }));
    } catch (error) {
      // The upload's own error says more than a failed abort would; a bucket lifecycle rule reaps leftovers.
      await this.#client.send(new AbortMultipartUploadCommand({ ...at, UploadId })).catch(() => undefined);
      throw error;
    }
  }
}

/** For presigned PUTs: the SDK's default checksum would sign the CRC32 of an empty body into the URL, and S3 would reject every real upload. */
function dropChecksumHeaders<A extends { request: unknown }, R>(next: (args: A) => Promise<R>): (args: A) => Promise<R> {
  return async (args) => {
    const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
    for (const name of Object.keys(headers)) if (/^x-amz-(checksum-|sdk-checksum-algorithm$)/i.test(name)) delete headers[name];
    return next(args);
  };
}
const DROP_CHECKSUM_HEADERS = { step: "build", priority: "low", name: "consiliumDropPresignChecksum" } as const;

function isS3Error(error: unknown, ...names: string[]): boolean {
  return error instanceof S3ServiceException && names.includes(error.name);
}

async function orNull<T>(request: Promise<T>): Promise<T | null> {
  return request.catch((error: unknown) => {
    if (isS3Error(error, "NoSuchKey", "NotFound")) return null;
    throw error;
  });
}

const keyLocks = new Map<string, Promise<unknown>>();

/** Runs tasks for one id one after another, in call order. */
async function withKeyLock<T>(id: string, task: () => Promise<T>): Promise<T> {
  const run = (keyLocks.get(id) ?? Promise.resolve()).then(task);
  const settled = run.catch(() => undefined);
  keyLocks.set(id, settled);
  return run.finally(() => keyLocks.get(id) === settled && keyLocks.delete(id));
}

async function* emptyStream(): AsyncGenerator<Uint8Array> {}
