/**
 * @module
 * `site.json` in a state folder: which site the folder belongs to, and which federation its saved
 * personal model came from. A runner refuses another site's folder (two hospitals' state must
 * never mix), and `consilium site export` names the site and federation in what it writes.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ConsiliumError } from "../../core/errors.ts";
import { writeStateFile } from "./state-files.ts";

const FILE = "site.json";

export const StateOwner = z.object({
  siteId: z.string(),
  /** The federation of the personal model saved at `modelVersion`; absent until one is saved with a federation known. */
  personal: z.object({ federation: z.string(), modelVersion: z.number().int().nonnegative() }).optional(),
});
export type StateOwner = z.infer<typeof StateOwner>;

/** The folder's owner, or null for a folder written before `site.json` existed (or none at all). */
export async function readStateOwner(dir: string): Promise<StateOwner | null> {
  const text = await readFile(join(dir, FILE), "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return null;
    throw err;
  });
  if (text === null) return null;
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Refused below with the file named.
  }
  const parsed = StateOwner.safeParse(json);
  if (!parsed.success) throw new ConsiliumError("CORRUPT_STATE", `${join(dir, FILE)} does not say which site the folder belongs to`, 500);
  return parsed.data;
}

/** Marks `dir` as `siteId`'s, or refuses it when it is another site's. */
export async function claimStateDir(dir: string, siteId: string): Promise<void> {
  const owner = await readStateOwner(dir);
  if (owner === null) await writeStateFile(dir, FILE, JSON.stringify({ siteId } satisfies StateOwner));
  else if (owner.siteId !== siteId) throw anotherSite(dir, owner.siteId, siteId);
}

/** Records the federation of the personal model just saved, or that it is not known (so that an earlier record is not taken for it). */
export async function recordPersonalModel(dir: string, siteId: string, personal: StateOwner["personal"]): Promise<void> {
  await writeStateFile(dir, FILE, JSON.stringify({ siteId, ...(personal && { personal }) } satisfies StateOwner));
}

/** The refusal of a folder that holds `owner`'s state to site `siteId`. */
export function anotherSite(dir: string, owner: string, siteId: string): ConsiliumError {
  return new ConsiliumError("STATE_OF_ANOTHER_SITE", `${dir} holds the state of site ${owner}, not of site ${siteId}: each site keeps its own state folder`, 409);
}
