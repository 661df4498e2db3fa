/**
 * @module
 * The models a site has installed from the consortium's registry: each version in its own folder
 * `installed/{version}/` (the same three files as the personal model: body, head, metadata), and
 * `installed/current.json` naming the one in use, written last. A pull that fails part-way leaves
 * `current.json` on the previous version: a site is never without a model. `site predict`,
 * `site serve` and `site export` read the current installed model when there is one.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { writeStateFile } from "./state-files.ts";
import { ConsiliumError } from "../../core/errors.ts";
import { loadPersonalModel, savePersonalModel, type PersonalModel } from "./site-state.ts";

export const INSTALLED = "installed";
const CURRENT = "current.json";

/** Which version is in use, and since when. */
export const CurrentModel = z.object({ version: z.int().min(1), installedAt: z.string() });
export type CurrentModel = z.infer<typeof CurrentModel>;

/** The folder of installed version `version`. */
export const installedDir = (dir: string, version: number): string => join(dir, INSTALLED, String(version).padStart(6, "0"));

/** The installed version in use, or null when the site has installed none (or `current.json` does not read). */
export async function currentInstalled(dir: string): Promise<CurrentModel | null> {
  try {
    return CurrentModel.parse(JSON.parse(await readFile(join(dir, INSTALLED, CURRENT), "utf8")));
  } catch {
    return null;
  }
}

/** Installs `model` as version `version`: its files first, then the pointer. */
export async function installModel(dir: string, version: number, model: PersonalModel, now: Date = new Date()): Promise<CurrentModel> {
  await savePersonalModel(installedDir(dir, version), model);
  const current: CurrentModel = { version, installedAt: now.toISOString() };
  await writeStateFile(join(dir, INSTALLED), CURRENT, JSON.stringify(current));
  return current;
}

/** Installed version `version` (the current one when absent), checked against its digests. */
export async function loadInstalled(dir: string, version?: number): Promise<PersonalModel | null> {
  const v = version ?? (await currentInstalled(dir))?.version;
  if (v === undefined) return null;
  return loadPersonalModel(installedDir(dir, v));
}

/**
 * The model a site uses: the current installed registry version when the site has installed one
 * (`installed-model.ts`), else the personal model of its last run; `version` asks for one installed
 * version. Read again (up to 3 times, 200 ms apart) when its files do not match: a runner saving a
 * new one meanwhile replaces each file whole, but one after another. For readers that take no lock
 * (`site export`, `predict`, `serve`).
 */
export async function loadSettledPersonalModel(dir: string, version?: number): Promise<PersonalModel> {
  for (let attempt = 1; ; attempt++) {
    try {
      const installed = await loadInstalled(dir, version).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT" && version !== undefined) throw new ConsiliumError("NOT_INSTALLED", `version ${version} is not installed in ${dir}`, 404);
        throw err;
      });
      if (installed !== null) return installed;
      return await loadPersonalModel(dir);
    } catch (err) {
      if (!(err instanceof ConsiliumError && err.code === "CORRUPT_STATE") || attempt >= 3) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
