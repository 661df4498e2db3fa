/**
 * @module
 * Where a site's state lives unless `--state-dir` says: `.consilium/site/<site-id>` under the
 * working directory, one folder per site, so that several runners started from one folder never
 * share one. `consilium site` and its `export`, `predict` and `serve` find the folder the same way.
 */
import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { UsageError } from "./flags.ts";

/** The folder that holds one state folder per site. */
export const siteStateRoot = join(".consilium", "site");

/** The default state folder of site `siteId`, relative to the working directory. */
export const defaultStateDirOf = (siteId: string): string => join(siteStateRoot, siteId);

/** How the flags' help names the default. */
export const defaultStateDirHelp = `${siteStateRoot}/<site-id>`;

const SITE_ID = /^[a-z0-9-]+$/;

/** The site folders under `root` and the files directly in it (state in the layout of an earlier version, when there are any). */
async function listRoot(root: string): Promise<{ sites: string[]; files: string[] }> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const visible = entries.filter((e) => !e.name.startsWith("."));
  return {
    sites: visible.filter((e) => e.isDirectory() && SITE_ID.test(e.name)).map((e) => e.name).sort(),
    files: visible.filter((e) => e.isFile()).map((e) => e.name).sort(),
  };
}

/**
 * `consilium site`'s state folder: `given` as it is, else the site's own. State left directly in
 * `.consilium/site` by an earlier version is refused until moved: it may mix several sites'
 * state, and starting afresh beside it would forget the ε its privacy ledger records as spent.
 * @example
 * const stateDir = await siteStateDir(flags["state-dir"], siteId); // …/.consilium/site/site-01
 */
export async function siteStateDir(given: string | undefined, siteId: string, cwd = process.cwd()): Promise<string> {
  if (given !== undefined) return resolve(cwd, given);
  const root = resolve(cwd, siteStateRoot);
  const { sites, files } = await listRoot(root);
  if (files.length > 0 && !sites.includes(siteId)) {
    throw new UsageError(
      `${root} holds state in the layout of an earlier version (${files.join(", ")}); state is now kept per site, in ${root}/<site-id>. ` +
        `If it is this site's, move it: (cd ${root} && mkdir ${siteId} && mv ${files.join(" ")} ${siteId}/). ` +
        `If several sites ran from this folder it mixes their state: remove those files. Or give --state-dir ${root} to go on using it as it is`,
    );
  }
  return join(root, siteId);
}

/** The folder `consilium site export` reads, the site it is known to belong to, and a line to say when it was picked unasked. */
export interface ExportSource {
  readonly dir: string;
  readonly siteId: string | null;
  readonly note: string | null;
}

/**
 * `consilium site export`'s state folder: `given` as it is; else site `siteId`'s; else the one
 * site folder there is. Several are refused, listed, rather than one picked.
 */
export async function exportStateDir(given: string | undefined, siteId: string | null, cwd = process.cwd()): Promise<ExportSource> {
  if (given !== undefined) return { dir: resolve(cwd, given), siteId, note: null };
  const root = resolve(cwd, siteStateRoot);
  const { sites, files } = await listRoot(root);
  const earlier = files.length > 0 ? ` (${root} holds state in the layout of an earlier version: give --state-dir ${root} to read it)` : "";
  if (siteId !== null) {
    if (!sites.includes(siteId)) throw new UsageError(`no state of site ${siteId} in ${join(root, siteId)}: run consilium site with its credential first, or give --state-dir DIR${earlier}`);
    return { dir: join(root, siteId), siteId, note: null };
  }
  const [only] = sites;
  if (only !== undefined && sites.length === 1) return { dir: join(root, only), siteId: only, note: `site ${only}: the only site state folder under ${root} (--site ID picks one)` };
  if (sites.length > 1) throw new UsageError(`${root} holds the state of ${sites.length} sites (${sites.join(", ")}): give --site ID or --token to pick one`);
  if (files.length > 0) throw new UsageError(`${root} holds state in the layout of an earlier version, directly in it: give --state-dir ${root} to read it`);
  throw new UsageError(`no site state under ${root}: run consilium site first, or give --state-dir DIR`);
}
