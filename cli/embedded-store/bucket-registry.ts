import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { BucketStore } from "./bucket-store.ts";
import { ensureDir } from "./durable-file.ts";
import { MultipartStore } from "./multipart-store.ts";
import { badRequest } from "./store-error.ts";

/** A bucket's objects and its open multipart uploads. */
export interface Bucket {
  readonly objects: BucketStore;
  readonly uploads: MultipartStore;
}

/** S3's bucket naming rules (lower case, digits, dots, hyphens; 3 to 63 characters). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The buckets under `root`, one folder each. */
export class BucketRegistry {
  readonly #buckets = new Map<string, Bucket>();

  private constructor(private readonly root: string, private readonly tmpDir: string, private readonly durable: boolean) {}

  static async open(root: string, tmpDir: string, durable: boolean): Promise<BucketRegistry> {
    const registry = new BucketRegistry(root, tmpDir, durable);
    await ensureDir(root, durable);
    for (const name of await readdir(root)) if (BUCKET_NAME.test(name)) await registry.#load(name);
    return registry;
  }

  get(name: string): Bucket | undefined {
    return this.#buckets.get(name);
  }

  /** Every file found at start that is not an object of this store. */
  get skipped(): string[] {
    return [...this.#buckets.values()].flatMap((b) => b.objects.skipped);
  }

  /** Creates the bucket; creating one that exists is no error (S3 in us-east-1). */
  async create(name: string): Promise<Bucket> {
    if (!BUCKET_NAME.test(name)) throw badRequest("InvalidBucketName", "bucket names are 3 to 63 lower-case letters, digits, dots and hyphens");
    const existing = this.#buckets.get(name);
    if (existing) return existing;
    await ensureDir(join(this.root, name), this.durable);
    return this.#load(name);
  }

  async #load(name: string): Promise<Bucket> {
    const objects = await BucketStore.open(name, join(this.root, name), this.tmpDir, this.durable);
    const bucket = { objects, uploads: await MultipartStore.open(objects) };
    this.#buckets.set(name, bucket);
    return bucket;
  }
}
