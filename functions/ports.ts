/**
 * @module
 * The coordinator's ports: everything it needs from the outside world, kept narrow so that use
 * cases can be tested against in-memory fakes and run against S3/SQS in production.
 */

import type { UploadedPart } from "../core/schemas/upload.ts";

export interface PutOptions {
  /** Write only when no object exists under the key (S3 `If-None-Match: *`). */
  readonly ifAbsent?: boolean;
  readonly contentType?: string;
}

export interface ObjectStore {
  /** The object's bytes, or `null` when there is no object under the key. */
  get(key: string): Promise<Uint8Array | null>;
  /**
   * The object's bytes as a stream of chunks, read as they are consumed (an S3 response body),
   * or `null` when there is no object under the key. Stopping the iteration early releases it.
   */
  getStream(key: string): Promise<AsyncIterable<Uint8Array> | null>;
  /** Writes the object; with `ifAbsent`, returns `false` instead of overwriting. */
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<boolean>;
  /** Size in bytes, or `null` when absent. */
  head(key: string): Promise<number | null>;
  /** Every key under the prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  /** A URL that lets its holder GET this one object until it expires. */
  presignGet(key: string, expiresSeconds: number): Promise<string>;
  /** A URL that lets its holder PUT exactly `contentLength` bytes to this one key. */
  presignPut(key: string, expiresSeconds: number, contentLength: number): Promise<string>;
  /**
   * Begins a multipart upload of exactly `contentLength` bytes to `key` in `partBytes`-byte parts
   * (the last may be shorter), for its holder to PUT part by part. `partBytes` must be at least the
   * store's smallest part (5 MiB on S3) and the parts at most 10,000; a RangeError otherwise.
   */
  presignMultipart(key: string, expiresSeconds: number, contentLength: number, partBytes: number): Promise<PresignedMultipart>;
  /**
   * Joins the listed parts into the object under `key`, replacing any there. Rejects with a
   * `MultipartUploadError` when the parts do not complete the upload; other errors propagate.
   */
  completeMultipart(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<void>;
}

/** A multipart upload begun for someone else to send: its id and one presigned PUT URL per part, in order. */
export interface PresignedMultipart {
  readonly uploadId: string;
  readonly parts: readonly { readonly partNumber: number; readonly url: string }[];
}

/** S3's names for the ways a part list can fail to complete an upload. */
export type MultipartRefusal = "NoSuchUpload" | "InvalidPart" | "InvalidPartOrder" | "EntityTooSmall" | "MalformedXML";

/**
 * The store refused to complete a multipart upload: the upload is unknown (never begun, aborted
 * or already completed), a part is missing or has another ETag, the list is out of order or
 * empty, or a part other than the last is below the smallest part size.
 */
export class MultipartUploadError extends Error {
  constructor(readonly reason: MultipartRefusal, message: string) {
    super(message);
    this.name = "MultipartUploadError";
  }
}

export interface JobQueue {
  /** Sends one job message; `dedupeKey` lets a FIFO queue drop duplicates. */
  send(body: string, dedupeKey?: string): Promise<void>;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export { silentLogger, type Logger } from "../core/logger.ts";

export const systemClock: Clock = { now: () => Date.now() };
