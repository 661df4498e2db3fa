/**
 * @module
 * One process per folder: a `lock` file naming its holder (pid, host, boot, since when, command),
 * made whole before it appears (written beside, then hard-linked: `link` fails with EEXIST, so the
 * check and the create are one step). A lock whose holder is gone — its pid not running on this
 * host, an earlier boot of the machine, or this very pid without this process holding it (a
 * container restarted under the same pid) — is taken over, and the caller is told whose it was.
 * A lock from another host is never taken over: whether its process runs cannot be seen from here.
 * Used by the site runner's state folder and the embedded store's data folder.
 */
import { createHash, randomBytes } from "node:crypto";
import { link, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { ConsiliumError } from "../../core/errors.ts";

/** The lock's file name inside the folder it guards. */
export const LOCK_FILE = "lock";

/** What a lock file says; older locks (the store's first version) carry only `pid`, `boot` and `token`. */
export const LockHolder = z.object({
  pid: z.number().int().positive(),
  host: z.string().optional(),
  boot: z.string().optional(),
  since: z.string().optional(),
  command: z.string().optional(),
  token: z.string(),
});
export type LockHolder = z.infer<typeof LockHolder>;

/** A folder held by another process, which is (or may be) running. */
export class FolderInUseError extends ConsiliumError {
  constructor(message: string, readonly holder: LockHolder, readonly lockPath: string) {
    super("FOLDER_IN_USE", message, 409);
    this.name = "FolderInUseError";
  }
}

export interface FolderLock {
  readonly path: string;
  /** Set when a stale lock was taken over: whose it was and why it was stale, for a warning. */
  readonly tookOver: string | null;
  /** Removes the lock if it is still this one; safe to call twice. */
  release(): Promise<void>;
}

export interface LockOptions {
  /** Appended to a refusal: the rule the lock keeps, e.g. "one site runner per state folder". */
  readonly rule: string;
  /** The holder's command line as shown to whoever is refused (default: this process's, secrets masked). */
  readonly command?: string;
}

/**
 * The tokens of the locks this process has made (each added before its lock can appear): a lock
 * naming this pid whose token is not among them was left by an earlier process under the same pid.
 */
const held = new Set<string>();

/**
 * Takes the lock of `dir` (which must exist), or throws `FolderInUseError` naming its holder.
 * @example
 * const lock = await lockFolder(stateDir, { rule: "one site runner per state folder" });
 * if (lock.tookOver) logger.warn(lock.tookOver);
 * try { … } finally { await lock.release(); }
 */
export async function lockFolder(dir: string, options: LockOptions): Promise<FolderLock> {
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), boot: await bootId(), since: new Date().toISOString(), command: options.command ?? commandLine(process.argv), token: randomBytes(8).toString("hex") };
  const mine = JSON.stringify(me);
  const release = async (): Promise<void> => {
    held.delete(me.token);
    if ((await readFile(path, "utf8").catch(() => "")) === mine) await rm(path, { force: true });
  };
  let tookOver: string | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    held.add(me.token);
    if (await create(path, mine)) return { path, tookOver, release };
    held.delete(me.token);
    const text = await readFile(path, "utf8").catch(() => null);
    if (text === null) continue;
    const holder = parseHolder(text);
    const why = holder === null ? "it could not be read" : await staleness(holder);
    if (why === null && holder !== null) {
      const other = holder.host !== undefined && holder.host !== me.host;
      const seen = other ? `, which cannot be seen from this host (${me.host})` : ", which is still running";
      const hint = other ? `if that process is gone, delete ${path}` : `if pid ${holder.pid} is some other program now, delete ${path}`;
      throw new FolderInUseError(`${dir} is in use by ${describeHolder(holder)}${seen}: ${options.rule} (${hint})`, holder, path);
    }
    if (await breakStale(path, text, mine)) tookOver = `took over the lock of ${dir} from ${holder === null ? "an unreadable lock file" : describeHolder(holder)}: ${why}`;
    else await pause(10 + Math.random() * 40);
  }
  throw new Error(`${path}: could not take the lock after 5 attempts (other processes are taking it at the same time)`);
}

/**
 * Who holds `dir`'s lock and whether that holder is stale; null when nobody does. For readers
 * (`site export`) that do not take the lock but say what is running.
 */
export async function folderHolder(dir: string): Promise<{ holder: LockHolder; stale: boolean } | null> {
  const path = join(dir, LOCK_FILE);
  const text = await readFile(path, "utf8").catch(() => null);
  const holder = text === null ? null : parseHolder(text);
  return holder === null ? null : { holder, stale: (await staleness(holder)) !== null };
}

/** `process 4242 (consilium site …) on host ward-7 since 2025-05-01T10:00:00.000Z`, as much as the lock says. */
export function describeHolder(holder: LockHolder): string {
  return [`process ${holder.pid}`, holder.command && `(${holder.command})`, holder.host && `on host ${holder.host}`, holder.since && `since ${holder.since}`].filter(Boolean).join(" ");
}

/** A command line fit to show to other users of the folder: the script's name, and no credential. */
export function commandLine(argv: readonly string[]): string {
  const [, script = "", ...args] = argv;
  const name = basename(script).replace(/\.[cm]?[jt]s$/, "");
  const masked = args.map((arg, i) => {
    if (/^--[\w-]*(token|secret|password|key)[\w-]*=/i.test(arg)) return `${arg.slice(0, arg.indexOf("=") + 1)}***`;
    if (i > 0 && /^--[\w-]*(token|secret|password|key)[\w-]*$/i.test(args[i - 1] ?? "")) return "***";
    return arg.replace(/\bcs_([a-z0-9-]+)_[A-Za-z0-9_-]+/g, "cs_$1_***");
  });
  const line = [name, ...masked].join(" ");
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

/** Why `holder` is stale, or null when it may be running. */
async function staleness(holder: LockHolder): Promise<string | null> {
  if (holder.host !== undefined && holder.host !== hostname()) return null;
  const boot = await bootId();
  if (holder.boot !== undefined && boot !== undefined && holder.boot !== boot) return "it was taken before this machine last booted";
  if (holder.pid === process.pid) return held.has(holder.token) ? null : "it names this process's pid, which an earlier process had (a restart under the same pid)";
  return alive(holder.pid) ? null : `process ${holder.pid} is no longer running`;
}

function parseHolder(text: string): LockHolder | null {
  try {
    const parsed = LockHolder.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Creates the lock whole, or answers false when one is there. */
async function create(path: string, content: string): Promise<boolean> {
  const temp = besideLock(path);
  await writeFile(temp, content, { flag: "wx", mode: 0o600 });
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    // ENOENT: a holder swept our temp file as a partial write; the lock is then its.
    if ((error as NodeJS.ErrnoException).code === "EEXIST" || (error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * Removes the stale lock `seen`, if it is still there, as the one taker that holds its break marker
 * (created exclusively, named after the stale lock's content): a lock that another taker has made
 * meanwhile is never touched, so two takers of one stale lock cannot both end up holding it. A
 * marker left by a taker that died in those few steps is not guessed away: the error names it.
 */
async function breakStale(path: string, seen: string, mine: string): Promise<boolean> {
  const marker = `${path}.break-${createHash("sha256").update(seen).digest("hex").slice(0, 16)}`;
  try {
    await writeFile(marker, mine, { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const breaker = parseHolder(await readFile(marker, "utf8").catch(() => ""));
    if (breaker && breaker.pid !== process.pid && (breaker.host === undefined || breaker.host === hostname()) && !alive(breaker.pid)) {
      throw new Error(`${marker} was left by process ${breaker.pid}, which died while taking over the stale lock ${path}: delete ${marker} (and ${path}, if no runner is using the folder)`);
    }
    return false;
  }
  try {
    if ((await readFile(path, "utf8").catch(() => null)) !== seen) return false;
    await unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
    return true;
  } finally {
    await unlink(marker).catch(() => undefined);
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A name beside the lock that a state folder's sweep of partial writes (`sweepPartials`) removes after a crash. */
function besideLock(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.partial`);
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
