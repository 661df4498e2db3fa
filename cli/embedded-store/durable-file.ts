/**
 * @module
 * Crash-safe file writes: bytes go to a temp file beside the data, which is fsynced and then
 * renamed into place (or hard-linked, when it must not replace a file: `link` fails with EEXIST,
 * so the check and the create are one step), and the folder is fsynced. After `kill -9` or a
 * power cut a file is whole or absent, never torn; a stray temp file is swept at the next start.
 */
import { randomBytes } from "node:crypto";
import { link, mkdir, open, readdir, readFile, rename, rm, unlink, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";

/** Owner-only: the folder holds model updates and the store's secret. */
export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/** Makes a folder's entries (a rename, link or unlink) survive a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates `dir` (and missing parents) owner-only; durable: each new entry's parent is fsynced. */
export async function ensureDir(dir: string, durable: boolean): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: DIR_MODE });
  if (!durable || first === undefined) return;
  for (let path = dir; path !== dirname(first); path = dirname(path)) await fsyncDir(dirname(path));
}

/**
 * A file being written in `tmpDir`, which must be on the same file system as its target.
 * `durable: false` skips every fsync, for a throwaway folder (a simulation).
 * @example
 * const file = await TempFile.create(tmpDir, true);
 * await file.write(bytes);
 * await file.commit(join(dir, "federation.json"), { ifAbsent: true });
 */
export class TempFile {
  private constructor(readonly path: string, readonly handle: FileHandle, private readonly durable: boolean) {}

  static async create(tmpDir: string, durable: boolean): Promise<TempFile> {
    const path = join(tmpDir, `${Date.now().toString(36)}-${randomBytes(8).toString("hex")}.tmp`);
    return new TempFile(path, await open(path, "wx", FILE_MODE), durable);
  }

  async write(bytes: Uint8Array): Promise<void> {
    for (let offset = 0; offset < bytes.byteLength; ) offset += (await this.handle.write(bytes, offset)).bytesWritten;
  }

  /** Moves the file to `target`; with `ifAbsent`, answers false (and discards it) when `target` exists. */
  async commit(target: string, options: { readonly ifAbsent?: boolean } = {}): Promise<boolean> {
    if (this.durable) await this.handle.sync();
    await this.handle.close();
    if (options.ifAbsent) {
      try {
        await link(this.path, target);
      } catch (error) {
        await unlink(this.path).catch(() => undefined);
        if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw error;
      }
      await unlink(this.path);
    } else {
      await rename(this.path, target);
    }
    if (this.durable) await fsyncDir(dirname(target));
    return true;
  }

  /** Drops the file; safe after a failed commit. */
  async discard(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }
}

/** Writes `bytes` to `target` through a temp file; see `TempFile.commit` for `ifAbsent`. */
export async function writeFileAtomic(tmpDir: string, target: string, bytes: Uint8Array, options: { readonly durable: boolean; readonly ifAbsent?: boolean }): Promise<boolean> {
  const file = await TempFile.create(tmpDir, options.durable);
  try {
    await file.write(bytes);
  } catch (error) {
    await file.discard();
    throw error;
  }
  return file.commit(target, options);
}

/** Removes a file and makes the removal durable; a missing file is no error. */
export async function removeFile(path: string, durable: boolean): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  if (durable) await fsyncDir(dirname(path));
}

/** Empties the temp folder: what a crash left half-written there was never acknowledged. */
export async function sweepTemp(tmpDir: string): Promise<void> {
  for (const name of await readdir(tmpDir)) await rm(join(tmpDir, name), { force: true, recursive: true });
}

/** A JSON file's value, or null when it is missing or not JSON (the caller checks it with its schema). */
export async function readJsonFile(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as unknown;
  } catch {
    return null;
  }
}
