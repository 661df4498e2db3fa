/**
 * @module
 * An in-memory `ObjectStore` for unit tests of the coordinator: same contract as S3, no server.
 */
import { systemClock, type Clock, type ObjectStore, type PutOptions } from "../ports.ts";

/** What a `memory://` presigned URL grants. */
export interface MemoryPresigned {
  readonly op: "get" | "put";
  readonly key: string;
  /** Epoch milliseconds after which the URL is no longer valid. */
  readonly expiresAt: number;
  /** PUT only: the exact byte count the holder may upload. */
  readonly contentLength?: number;
}

/**
 * Keeps objects in a `Map`. Bytes are copied on the way in and out, so callers cannot alter
 * stored state by mutating a buffer, just as they could not with S3.
 * @example
 * const store = new MemoryObjectStore();
 * await store.put("federation.json", "{}", { ifAbsent: true }); // true
 * await store.presignPut("rounds/1/updates/a.bin", 60, 1024);
 * // "memory://consilium/rounds/1/updates/a.bin?op=put&len=1024&expires=…"
 */
export class MemoryObjectStore implements ObjectStore {
  /** Stored objects by key; exposed so tests can inspect or seed state directly. */
  readonly objects = new Map<string, Uint8Array>();
  readonly bucket: string;
  readonly #clock: Clock;

  constructor(options: { bucket?: string; clock?: Clock } = {}) {
    this.bucket = options.bucket ?? "consilium";
    this.#clock = options.clock ?? systemClock;
  }

  async get(key: string): Promise<Uint8Array | null> {
    return this.objects.get(key)?.slice() ?? null;
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

  /** Reads back what a URL from this store grants, or `null` when it is not one of its URLs. */
  parsePresigned(url: string): MemoryPresigned | null {
    const parsed = URL.canParse(url) ? new URL(url) : null;
    if (parsed?.protocol !== "memory:" || parsed.host !== this.bucket) return null;
    const op = parsed.searchParams.get("op");
    const expiresAt = Number(parsed.searchParams.get("expires"));
    const key = parsed.pathname.slice(1).split("/").map(decodeURIComponent).join("/");
    if (op === "get") return { op, key, expiresAt };
    if (op === "put") return { op, key, expiresAt, contentLength: Number(parsed.searchParams.get("len")) };
    return null;
  }

  #url(key: string, query: string, expiresSeconds: number): string {
    const path = key.split("/").map(encodeURIComponent).join("/");
    return `memory://${this.bucket}/${path}?${query}&expires=${this.#clock.now() + expiresSeconds * 1000}`;
  }
}
