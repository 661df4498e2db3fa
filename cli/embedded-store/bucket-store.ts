/**
 * @module
 * One bucket in a folder: each object one file under `objects/` (object-file.ts), written through
 * a temp file (durable-file.ts). An index of keys, sizes and metadata, rebuilt from the folder at
 * start, answers HEAD and LIST without reading files; a per-key lock keeps it in step with the
 * folder. The folder is the truth: an acknowledged write was fsynced before it was answered.
 */
import { createHash } from "node:crypto";
import { open, readdir, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { ensureDir, removeFile, TempFile } from "./durable-file.ts";
import { KeyLocks } from "./key-locks.ts";
import { fileNameOf, keyOfFileName } from "./key-names.ts";
import { CorruptObjectError, readObjectInfo, trailerOf, type ObjectMeta } from "./object-file.ts";
import { receiveBody, type DeclaredBody } from "./receive-body.ts";

/** An object as HEAD and LIST see it. */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly meta: ObjectMeta;
}

/** An open object: read `size` bytes from `handle` from offset 0, then close it. */
export interface OpenObject extends ObjectInfo {
  readonly handle: FileHandle;
}

export interface PutOptions {
  readonly contentType?: string;
  /** S3 `If-None-Match: *`: answer null instead of replacing an object. */
  readonly ifAbsent?: boolean;
}

/** One page of a listing, in UTF-8 byte order of the keys. */
export interface ListPage {
  readonly objects: readonly ObjectInfo[];
  readonly truncated: boolean;
}

/**
 * S3 lists keys in the UTF-8 byte order of their names, which is code point order. UTF-16 order
 * (JavaScript's `<`) agrees except where a surrogate (half of a code point above U+FFFF) meets a
 * unit at U+E000 or above: the surrogate's code point is the larger. Compared in place, with no
 * encoding: a listing compares every key it passes.
 */
export function byteOrder(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    return xs === ys ? x - y : xs ? 1 : -1;
  }
  return a.length - b.length;
}

/** The first index of `sorted` whose key is not before `key` (`after`: not before or equal to it). */
function bound(sorted: readonly string[], key: string, after = false): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = byteOrder(sorted[mid]!, key);
    if (c < 0 || (after && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class BucketStore {
  readonly #index = new Map<string, ObjectInfo>();
  readonly #locks = new KeyLocks();
  /** Every key in byte order, built at the first listing and kept in order after it. */
  #sorted: string[] | null = null;
  /** Files found at start that are not objects of this store (the folder was edited by hand): left alone, not served. */
  readonly skipped: string[] = [];

  private constructor(readonly name: string, readonly dir: string, readonly tmpDir: string, readonly durable: boolean) {}

  get objectsDir(): string {
    return join(this.dir, "objects");
  }

  /** Opens (creating when absent) the bucket folder `dir` and indexes its objects. */
  static async open(name: string, dir: string, tmpDir: string, durable: boolean): Promise<BucketStore> {
    const store = new BucketStore(name, dir, tmpDir, durable);
    await ensureDir(store.objectsDir, durable);
    await ensureDir(join(dir, "uploads"), durable);
    for (const file of await readdir(store.objectsDir)) {
      const key = keyOfFileName(file);
      if (key === null) continue;
      const opened = await store.open(key).catch((error: unknown) => {
        if (error instanceof CorruptObjectError) return void store.skipped.push(error.message);
        throw error;
      });
      if (opened) await opened.handle.close();
    }
    return store;
  }

  head(key: string): ObjectInfo | null {
    return this.#index.get(key) ?? null;
  }

  /** The object under `key`, open for reading (null when absent); the caller closes the handle. */
  async open(key: string): Promise<OpenObject | null> {
    const path = join(this.objectsDir, fileNameOf(key));
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
    try {
      // Read from the open file, not the index: a concurrent overwrite renames a new file in, this one stays whole.
      const info = { key, ...(await readObjectInfo(handle, path)) };
      if (!this.#index.has(key)) this.#remember(info);
      return { ...info, handle };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Stores the body read from `source`; answers its ETag, or null when `ifAbsent` found an object. */
  async put(key: string, source: AsyncIterable<Uint8Array>, declared: DeclaredBody, options: PutOptions = {}): Promise<string | null> {
    fileNameOf(key);
    const file = await TempFile.create(this.tmpDir, this.durable);
    try {
      const body = await receiveBody(source, file, declared);
      const meta = { etag: `"${body.md5.toString("hex")}"`, ...(options.contentType !== undefined && { contentType: options.contentType }), lastModified: Date.now() };
      return (await this.commit(key, file, body.size, meta, options.ifAbsent)) ? meta.etag : null;
    } catch (error) {
      await file.discard();
      throw error;
    }
  }

  /** Appends the trailer to a temp file holding a body and moves it under `key`; false when `ifAbsent` found an object. */
  async commit(key: string, file: TempFile, size: number, meta: ObjectMeta, ifAbsent = false): Promise<boolean> {
    await file.write(trailerOf(meta));
    return this.#locks.run(key, async () => {
      const written = await file.commit(join(this.objectsDir, fileNameOf(key)), { ifAbsent });
      if (written) this.#remember({ key, size, meta });
      return written;
    });
  }

  async delete(key: string): Promise<void> {
    const path = join(this.objectsDir, fileNameOf(key));
    await this.#locks.run(key, async () => {
      await removeFile(path, this.durable);
      if (this.#index.delete(key) && this.#sorted) {
        const at = bound(this.#sorted, key);
        if (this.#sorted[at] === key) this.#sorted.splice(at, 1);
      }
    });
  }

  /** Keys under `prefix` after `startAfter`, at most `max`: found by binary search, so a listing costs its own keys, not the bucket's. */
  list(prefix: string, startAfter: string, max: number): ListPage {
    const sorted = (this.#sorted ??= [...this.#index.keys()].sort(byteOrder));
    const objects: ObjectInfo[] = [];
    // Keys under a prefix sit together in byte order, from the first not before it.
    for (let i = Math.max(bound(sorted, prefix), bound(sorted, startAfter, true)); i < sorted.length; i++) {
      const key = sorted[i]!;
      if (!key.startsWith(prefix)) break;
      if (objects.length === max) return { objects, truncated: true };
      const info = this.#index.get(key);
      if (info) objects.push(info);
    }
    return { objects, truncated: false };
  }

  #remember(info: ObjectInfo): void {
    if (!this.#index.has(info.key) && this.#sorted) this.#sorted.splice(bound(this.#sorted, info.key), 0, info.key);
    this.#index.set(info.key, info);
  }
}

/** S3's ETag of a multipart object: the MD5 of the parts' binary MD5s, and their count. */
export function multipartEtag(partMd5s: readonly Buffer[]): string {
  return `"${createHash("md5").update(Buffer.concat(partMd5s)).digest("hex")}-${partMd5s.length}"`;
}
