/**
 * @module
 * An in-memory `ObjectStore` for unit tests of the coordinator: same contract as S3, no server.
 */
import { createHash, randomUUID } from "node:crypto";
import type { UploadedPart } from "../../core/schemas/upload.ts";
import { MultipartUploadError, systemClock, type Clock, type ObjectStore, type PresignedMultipart, type PutOptions } from "../ports.ts";
import { partSizes } from "./part-sizes.ts";

/** What a `memory://` presigned URL grants. */
export interface MemoryPresigned {
  readonly op: "get" | "put" | "part";
  readonly key: string;
  /** Epoch milliseconds after which the URL is no longer valid. */
  readonly expiresAt: number;
  /** PUT and part only: the exact byte count the holder may upload. */
  readonly contentLength?: number;
  /** Part only: the multipart upload and the part's number in it. */
  readonly uploadId?: string;
  readonly partNumber?: number;
}

interface PendingUpload {
  readonly key: string;
  readonly parts: Map<number, { readonly bytes: Uint8Array; readonly etag: string }>;
}

/**
 * Keeps objects in a `Map`. Bytes are copied on the way in and out, so callers cannot alter
 * stored state by mutating a buffer, just as they could not with S3.
 * @example
 * const store = new MemoryObjectStore();
 * await store.put("federation.json", "{}", { ifAbsent: true }); // true
 * await store.presignPut("rounds/1/updates/a.bin", 60, 1024);
 * // "memory://consilium/rounds/1/updates/a.bin?op=put&len=1024&expires=…"
 * await store.putWithUrl(url, bytes); // what the site's PUT to that URL would do; answers the ETag
 */
export class MemoryObjectStore implements ObjectStore {
  /** Stored objects by key; exposed so tests can inspect or seed state directly. */
  readonly objects = new Map<string, Uint8Array>();
  readonly bucket: string;
  readonly #clock: Clock;
  readonly #minPartBytes: number;
  readonly #uploads = new Map<string, PendingUpload>();

  /** `minPartBytes` is S3's 5 MiB unless a test needs multipart uploads of a few bytes. */
  constructor(options: { bucket?: string; clock?: Clock; minPartBytes?: number } = {}) {
    this.bucket = options.bucket ?? "consilium";
    this.#clock = options.clock ?? systemClock;
    this.#minPartBytes = options.minPartBytes ?? 5 * 1024 * 1024;
  }

  async get(key: string): Promise<Uint8Array | null> {
    return this.objects.get(key)?.slice() ?? null;
  }

  async getStream(key: string): Promise<AsyncIterable<Uint8Array> | null> {
    const bytes = this.objects.get(key);
    return bytes === undefined ? null : chunksOf(bytes, STREAM_CHUNK_BYTES);
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<boolean> {
    if (options.ifAbsent && this.objects.has(key)) return false;
    this.objects.set(key, typeof body === "string" ? new TextEncoder().encode(body) : body.slice());
    return true;
  }

  async head(key: string): Promise<number | null> {
    return this.objects.get(key)?.byteLength ?? null;
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }

  async presignGet(key: string, expiresSeconds: number): Promise<string> {
    return this.#url(key, "op=get", expiresSeconds);
  }

  async presignPut(key: string, expiresSeconds: number, contentLength: number): Promise<string> {
    if (!Number.isSafeInteger(contentLength) || contentLength < 0) throw new RangeError(`contentLength must be a non-negative integer, got ${contentLength}`);
    return this.#url(key, `op=put&len=${contentLength}`, expiresSeconds);
  }

  async presignMultipart(key: string, expiresSeconds: number, contentLength: number, partBytes: number): Promise<PresignedMultipart> {
    const sizes = partSizes(contentLength, partBytes, this.#minPartBytes);
    const uploadId = randomUUID();
    this.#uploads.set(uploadId, { key, parts: new Map() });
    const parts = sizes.map((length, i) => ({
      partNumber: i + 1,
      url: this.#url(key, `op=part&upload=${uploadId}&part=${i + 1}&len=${length}`, expiresSeconds),
    }));
    return { uploadId, parts };
  }

  /**
   * Refuses a part list for the reasons S3 does, in the order S3 checks them. (S3's EntityTooSmall
   * cannot arise: `putWithUrl` takes each part at exactly its presigned length.)
   */
  async completeMultipart(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<void> {
    const upload = this.#uploads.get(uploadId);
    if (upload?.key !== key) throw new MultipartUploadError("NoSuchUpload", `no multipart upload ${uploadId} to ${key} (never begun, aborted or completed)`);
    if (parts.length === 0) throw new MultipartUploadError("MalformedXML", "the part list is empty");
    const stored = parts.map(({ partNumber, etag }, i) => {
      if (i > 0 && partNumber <= (parts[i - 1]?.partNumber ?? 0)) throw new MultipartUploadError("InvalidPartOrder", "the part list is not in ascending order of part number");
      const part = upload.parts.get(partNumber);
      // S3 compares ETags without their quotes.
      if (part?.etag.replaceAll('"', "") !== etag.replaceAll('"', "")) throw new MultipartUploadError("InvalidPart", `part ${partNumber} was not uploaded or has another ETag`);
      return part.bytes;
    });
    const body = new Uint8Array(stored.reduce((n, bytes) => n + bytes.length, 0));
    let offset = 0;
    for (const bytes of stored) {
      body.set(bytes, offset);
      offset += bytes.length;
    }
    this.objects.set(key, body);
    this.#uploads.delete(uploadId);
  }

  /**
   * What a PUT of `body` to one of this store's presigned URLs does, as S3 would: stores the object
   * or the part and answers its ETag; refuses an expired URL, another length or an unknown upload.
   */
  async putWithUrl(url: string, body: Uint8Array): Promise<string> {
    const grant = this.parsePresigned(url);
    if (grant?.op !== "put" && grant?.op !== "part") throw new Error(`not a presigned PUT of this store: ${url}`);
    if (this.#clock.now() > grant.expiresAt) throw new Error(`presigned URL for ${grant.key} expired`);
    if (body.length !== grant.contentLength) throw new Error(`presigned URL for ${grant.key} takes ${grant.contentLength} bytes, got ${body.length}`);
    const etag = `"${createHash("md5").update(body).digest("hex")}"`;
    if (grant.op === "put") {
      this.objects.set(grant.key, body.slice());
      return etag;
    }
    const upload = this.#uploads.get(grant.uploadId ?? "");
    if (!upload) throw new MultipartUploadError("NoSuchUpload", `no multipart upload ${grant.uploadId} to ${grant.key}`);
    upload.parts.set(grant.partNumber ?? 0, { bytes: body.slice(), etag });
    return etag;
  }

  /** Reads back what a URL from this store grants, or `null` when it is not one of its URLs. */
  parsePresigned(url: string): MemoryPresigned | null {
    const parsed = URL.canParse(url) ? new URL(url) : null;
    if (parsed?.protocol !== "memory:" || parsed.host !== this.bucket) return null;
    const param = (name: string): string | null => parsed.searchParams.get(name);
    const op = param("op");
    const expiresAt = Number(param("expires"));
    const key = parsed.pathname.slice(1).split("/").map(decodeURIComponent).join("/");
    if (op === "get") return { op, key, expiresAt };
    if (op === "put") return { op, key, expiresAt, contentLength: Number(param("len")) };
    if (op === "part") return { op, key, expiresAt, contentLength: Number(param("len")), uploadId: param("upload") ?? "", partNumber: Number(param("part")) };
    return null;
  }

  #url(key: string, query: string, expiresSeconds: number): string {
    const path = key.split("/").map(encodeURIComponent).join("/");
    return `memory://${this.bucket}/${path}?${query}&expires=${this.#clock.now() + expiresSeconds * 1000}`;
  }
}

/** The size of the chunks a memory store streams an object in, about an HTTP response's. */
const STREAM_CHUNK_BYTES = 64 * 1024;

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  // Stored objects are never written in place (a put stores a copy), so views are safe to hand out.
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}
