/**
 * @module
 * How a site writes its state folder: the folder owner-only (0700), every file owner-only (0600)
 * and written atomically — a temporary file beside it, flushed to disk, renamed over the old one,
 * and the folder flushed — so a runner killed at any moment leaves the old file or the new one,
 * never half of one. The personal head is trained on patient rows: nobody else on the machine
 * reads it.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";

/** Makes `dir` (and its parents) if needed, and makes it owner-only. */
export async function ensureStateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/** Removes what writes killed half-way left beside their files; for a runner starting on its folder, before it writes. */
export async function sweepPartials(dir: string): Promise<number> {
  const partials = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.startsWith(".") && name.endsWith(".partial"));
  await Promise.all(partials.map((name) => rm(join(dir, name), { force: true })));
  return partials.length;
}

/** Writes `name` under `dir` atomically and owner-only. */
export async function writeStateFile(dir: string, name: string, data: string | Uint8Array): Promise<void> {
  await ensureStateDir(dir);
  const partial = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString("hex")}.partial`);
  try {
    const file = await open(partial, "wx", 0o600);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(partial, join(dir, name));
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  await syncDir(dir);
}

/** Flushes a folder's entries (the rename) to disk; where a platform cannot open folders, the rename stands as it is. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r").catch(() => null);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a folder; the file itself is already on disk.
  } finally {
    await handle.close();
  }
}
