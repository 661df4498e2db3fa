/**
 * @module
 * The coordinator's ports: everything it needs from the outside world, kept narrow so that use
 * cases can be tested against in-memory fakes and run against S3/SQS in production.
 */

export interface PutOptions {
  /** Write only when no object exists under the key (S3 `If-None-Match: *`). */
  readonly ifAbsent?: boolean;
  readonly contentType?: string;
}

export interface ObjectStore {
  /** The object's bytes, or `null` when there is no object under the key. */
  get(key: string): Promise<Uint8Array | null>;
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
