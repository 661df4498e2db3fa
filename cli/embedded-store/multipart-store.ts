/**
 * @module
 * A bucket's multipart uploads: `uploads/<id>/upload.json` names the key, each part is an object
 * file beside it (its MD5 ETag in the trailer), and completing joins the listed parts into one temp
 * file that the bucket commits like any object. S3's refusals, with S3's names.
 */
import { createHash, randomBytes } from "node:crypto";
import { open, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { BucketStore, multipartEtag } from "./bucket-store.ts";
import { ensureDir, fsyncDir, readJsonFile, TempFile, writeFileAtomic } from "./durable-file.ts";
import { KeyLocks } from "./key-locks.ts";
import { readObjectInfo, trailerOf } from "./object-file.ts";
import { receiveBody, type DeclaredBody } from "./receive-body.ts";
import { StoreError } from "./store-error.ts";

const MIN_PART_BYTES = 5 * 1024 * 1024;
/** Uploads never completed are dropped at start after this long, as a bucket lifecycle rule would. */
const ABANDONED_MS = 7 * 24 * 3600 * 1000;
const UPLOAD_ID = /^[0-9a-f]{32}$/;

const UploadMeta = z.object({ key: z.string().min(1), contentType: z.string().max(256).optional(), initiated: z.number().int() });
type UploadMeta = z.infer<typeof UploadMeta>;

/** One entry of a CompleteMultipartUpload part list. */
export interface CompletedPart {
  readonly partNumber: number;
  readonly etag: string;
}

const noSuchUpload = (): StoreError => new StoreError(404, "NoSuchUpload", "the upload does not exist: never begun, aborted or completed");

export class MultipartStore {
  readonly #uploads = new Map<string, UploadMeta>();
  readonly #locks = new KeyLocks();

  private constructor(private readonly bucket: BucketStore) {}

  get #dir(): string {
    return join(this.bucket.dir, "uploads");
  }

  /** Loads the bucket's open uploads; drops half-created and abandoned ones. */
  static async open(bucket: BucketStore, now = Date.now()): Promise<MultipartStore> {
    const store = new MultipartStore(bucket);
    for (const id of await readdir(store.#dir)) {
      const meta = UPLOAD_ID.test(id) ? await readUploadMeta(join(store.#dir, id, "upload.json")) : null;
      if (meta && now - meta.initiated < ABANDONED_MS) store.#uploads.set(id, meta);
      else await rm(join(store.#dir, id), { recursive: true, force: true });
    }
    return store;
  }

  async create(key: string, contentType: string | undefined): Promise<string> {
    const id = randomBytes(16).toString("hex");
    const meta: UploadMeta = { key, ...(contentType !== undefined && { contentType }), initiated: Date.now() };
    await ensureDir(join(this.#dir, id), this.bucket.durable);
    await writeFileAtomic(this.bucket.tmpDir, join(this.#dir, id, "upload.json"), Buffer.from(JSON.stringify(meta)), { durable: this.bucket.durable });
    this.#uploads.set(id, meta);
    return id;
  }

  /** Stores one part (replacing an earlier copy of it); answers its ETag. */
  async putPart(key: string, id: string, partNumber: number, source: AsyncIterable<Uint8Array>, declared: DeclaredBody): Promise<string> {
    this.#upload(key, id);
    const file = await TempFile.create(this.bucket.tmpDir, this.bucket.durable);
    try {
      const body = await receiveBody(source, file, declared);
      const etag = `"${body.md5.toString("hex")}"`;
      await file.write(trailerOf({ etag, lastModified: Date.now() }));
      await this.#locks.run(id, async () => {
        this.#upload(key, id);
        await file.commit(partPath(this.#dir, id, partNumber));
      });
      return etag;
    } catch (error) {
      await file.discard();
      throw error;
    }
  }

  /** Joins the listed parts into the object under `key`; answers its ETag, or null when `ifAbsent` found an object. */
  async complete(key: string, id: string, parts: readonly CompletedPart[], ifAbsent: boolean): Promise<string | null> {
    return this.#locks.run(id, async () => {
      const meta = this.#upload(key, id);
      if (parts.length === 0) throw new StoreError(400, "MalformedXML", "the part list is empty");
      parts.forEach((p, i) => {
        if (i > 0 && p.partNumber <= (parts[i - 1]?.partNumber ?? 0)) throw new StoreError(400, "InvalidPartOrder", "the parts are not in ascending order");
      });
      const file = await TempFile.create(this.bucket.tmpDir, this.bucket.durable);
      let etag: string;
      try {
        const { size, md5s } = await this.#join(id, parts, file);
        etag = multipartEtag(md5s);
        const committed = await this.bucket.commit(key, file, size, { etag, ...(meta.contentType !== undefined && { contentType: meta.contentType }), lastModified: Date.now() }, ifAbsent);
        if (!committed) return null;
      } catch (error) {
        await file.discard();
        throw error;
      }
      this.#uploads.delete(id);
      await rm(join(this.#dir, id), { recursive: true, force: true });
      if (this.bucket.durable) await fsyncDir(this.#dir);
      return etag;
    });
  }

  async abort(key: string, id: string): Promise<void> {
    await this.#locks.run(id, async () => {
      this.#upload(key, id);
      this.#uploads.delete(id);
      await rm(join(this.#dir, id), { recursive: true, force: true });
      if (this.bucket.durable) await fsyncDir(this.#dir);
    });
  }

  #upload(key: string, id: string): UploadMeta {
    const meta = UPLOAD_ID.test(id) ? this.#uploads.get(id) : undefined;
    if (!meta || meta.key !== key) throw noSuchUpload();
    return meta;
  }

  /** Copies each listed part's body into `file`, checking it exists with the listed ETag and is large enough. */
  async #join(id: string, parts: readonly CompletedPart[], file: TempFile): Promise<{ size: number; md5s: Buffer[] }> {
    let size = 0;
    const md5s: Buffer[] = [];
    for (const [i, part] of parts.entries()) {
      const path = partPath(this.#dir, id, part.partNumber);
      const handle = await open(path, "r").catch(() => {
        throw new StoreError(400, "InvalidPart", `part ${part.partNumber} was not uploaded`);
      });
      try {
        const info = await readObjectInfo(handle, path);
        if (info.meta.etag !== normalEtag(part.etag)) throw new StoreError(400, "InvalidPart", `part ${part.partNumber} has another ETag`);
        if (i < parts.length - 1 && info.size < MIN_PART_BYTES) throw new StoreError(400, "EntityTooSmall", `part ${part.partNumber} is smaller than 5 MiB`);
        const md5 = createHash("md5");
        const chunks = info.size === 0 ? [] : handle.createReadStream({ start: 0, end: info.size - 1, autoClose: false });
        for await (const chunk of chunks) {
          md5.update(chunk as Buffer);
          await file.write(chunk as Buffer);
        }
        md5s.push(md5.digest());
        size += info.size;
      } finally {
        await handle.close();
      }
    }
    return { size, md5s };
  }
}

function partPath(dir: string, id: string, partNumber: number): string {
  return join(dir, id, String(partNumber).padStart(5, "0"));
}

/** ETags as clients echo them: quoted or not. */
function normalEtag(etag: string): string {
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

async function readUploadMeta(path: string): Promise<UploadMeta | null> {
  const parsed = UploadMeta.safeParse(await readJsonFile(path));
  return parsed.success ? parsed.data : null;
}
