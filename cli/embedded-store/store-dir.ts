/**
 * @module
 * The embedded store's data folder: owner-only, held by one process at a time (the folder lock of
 * `gpu-runner/session/folder-lock.ts`, taken over when its process is gone, as after `kill -9`),
 * with the store's SigV4 key generated once into `store-credentials.json` (0600) and kept:
 * presigned URLs handed out before a restart stay valid after it, and the key never leaves the
 * folder and the process.
 */
import { randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { FolderInUseError, lockFolder } from "../../gpu-runner/session/folder-lock.ts";
import { ensureDir, readJsonFile, sweepTemp, writeFileAtomic } from "./durable-file.ts";
import type { StoreCredentials } from "./sigv4-check.ts";

/** A data folder that cannot be used, with a stable code. */
export class StoreDirError extends Error {
  constructor(readonly code: "DATA_DIR_IN_USE" | "DATA_DIR_CORRUPT", message: string) {
    super(message);
    this.name = "StoreDirError";
  }
}

const Credentials = z.object({ accessKeyId: z.string().regex(/^[A-Z0-9]{16,128}$/), secretAccessKey: z.string().min(32).max(128) });

/** An open data folder: the store's root, its credentials, and whether others can read the folder. */
export interface StoreDir {
  readonly root: string;
  readonly credentials: StoreCredentials;
  /** The folder was there already with group or world access (the caller warns). */
  readonly openToOthers: boolean;
  release(): Promise<void>;
}

/** Opens (creating when absent) the data folder `dir` and takes its lock. */
export async function openStoreDir(dir: string, durable: boolean): Promise<StoreDir> {
  await ensureDir(dir, durable);
  const openToOthers = ((await stat(dir)).mode & 0o077) !== 0;
  const release = await takeLock(dir);
  try {
    const root = join(dir, "store");
    await ensureDir(join(root, "tmp"), durable);
    await sweepTemp(join(root, "tmp"));
    const credentials = await loadCredentials(dir, join(root, "tmp"), durable);
    return { root, credentials, openToOthers, release };
  } catch (error) {
    await release();
    throw error;
  }
}

async function takeLock(dir: string): Promise<() => Promise<void>> {
  try {
    return (await lockFolder(dir, { rule: "one coordinator per data folder" })).release;
  } catch (error) {
    throw error instanceof FolderInUseError ? new StoreDirError("DATA_DIR_IN_USE", error.message) : error;
  }
}

async function loadCredentials(dir: string, tmpDir: string, durable: boolean): Promise<StoreCredentials> {
  const path = join(dir, "store-credentials.json");
  const fresh = { accessKeyId: `CS${randomBytes(9).toString("hex").toUpperCase()}`, secretAccessKey: randomBytes(30).toString("base64") };
  await writeFileAtomic(tmpDir, path, Buffer.from(JSON.stringify(fresh)), { durable, ifAbsent: true });
  const parsed = Credentials.safeParse(await readJsonFile(path));
  if (!parsed.success) throw new StoreDirError("DATA_DIR_CORRUPT", `${path} is not the store's credentials file`);
  return parsed.data;
}
