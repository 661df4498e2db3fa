/**
 * @module
 * The embedded store's data folder: owner-only, held by one process at a time (a `lock` file naming
 * its pid, taken over when that process is gone, as after `kill -9`), with the store's SigV4 key
 * generated once into `store-credentials.json` (0600) and kept: presigned URLs handed out before a
 * restart stay valid after it, and the key never leaves the folder and the process.
 */
import { randomBytes } from "node:crypto";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ensureDir, FILE_MODE, readJsonFile, sweepTemp, writeFileAtomic } from "./durable-file.ts";
import type { StoreCredentials } from "./sigv4-check.ts";

/** A data folder that cannot be used, with a stable code. */
export class StoreDirError extends Error {
  constructor(readonly code: "DATA_DIR_IN_USE" | "DATA_DIR_CORRUPT", message: string) {
    super(message);
    this.name = "StoreDirError";
  }
}

const Lock = z.object({ pid: z.number().int().positive(), boot: z.string().optional(), token: z.string() });
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
  const release = await takeLock(join(dir, "lock"));
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

/** The locks this process holds: a lock naming this pid that is not among them was left by an earlier process under the same pid. */
const held = new Set<string>();

async function takeLock(path: string): Promise<() => Promise<void>> {
  const mine = JSON.stringify({ pid: process.pid, boot: await bootId(), token: randomBytes(8).toString("hex") });
  const release = async (): Promise<void> => {
    held.delete(path);
    if ((await readFile(path, "utf8").catch(() => "")) === mine) await rm(path, { force: true });
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, mine, { flag: "wx", mode: FILE_MODE });
      held.add(path);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error;
    }
    const holder = Lock.safeParse(await readJsonFile(path));
    // A holder is stale when its pid is this process's own (a container restarted under the same pid)
    // or the machine has booted since (its pid now names some other process).
    const stale = !holder.success || (holder.data.pid === process.pid && !held.has(path)) || (holder.data.boot !== undefined && holder.data.boot !== (await bootId())) || !alive(holder.data.pid);
    if (!stale) {
      throw new StoreDirError("DATA_DIR_IN_USE", `${path} names process ${holder.data.pid}, which is running: one coordinator per data folder (delete the file if that process is not a coordinator)`);
    }
    await rm(path, { force: true });
  }
}

/** This boot of the machine, where the kernel says (Linux); undefined elsewhere. */
async function bootId(): Promise<string | undefined> {
  return (await readFile("/proc/sys/kernel/random/boot_id", "utf8").catch(() => "")).trim() || undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
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
