/**
 * @module
 * The administrator's bearer token of a one-machine coordinator: the one given (flag or
 * environment), else the one kept in the data folder (`admin-token`, owner-only), else one
 * generated and kept there, shown once. The administrator keeps access across restarts.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "./embedded-store/durable-file.ts";
import { StoreDirError } from "./embedded-store/store-dir.ts";

export interface AdminToken {
  readonly token: string;
  /** `given` by flag or environment, `kept` in the folder from an earlier start, or `generated` now (and kept). */
  readonly origin: "given" | "kept" | "generated";
  /** The file that holds it (kept or generated). */
  readonly file?: string;
}

const Token = z.string().trim().min(16).max(512);

/**
 * @example
 * const { token, origin } = await adminTokenFor(undefined, ".consilium/coordinator", tmpDir);
 */
export async function adminTokenFor(given: string | undefined, dataDir: string, tmpDir: string): Promise<AdminToken> {
  if (given !== undefined) return { token: given, origin: "given" };
  const file = join(dataDir, "admin-token");
  const generated = randomBytes(24).toString("base64url");
  const created = await writeFileAtomic(tmpDir, file, Buffer.from(`${generated}\n`), { durable: true, ifAbsent: true });
  if (created) return { token: generated, origin: "generated", file };
  const kept = Token.safeParse(await readFile(file, "utf8").catch(() => ""));
  if (!kept.success) throw new StoreDirError("DATA_DIR_CORRUPT", `${file} does not hold a token of 16 to 512 characters`);
  return { token: kept.data, origin: "kept", file };
}
