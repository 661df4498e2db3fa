/**
 * @module
 * `consilium site export`: the site's personalised model as TensorFlow.js files, for local inference.
 */
import { access } from "node:fs/promises";
import { join, resolve } from "node:path";
import { z } from "zod";
import { siteIdOfCredential } from "../../core/site-credential.ts";
import { selectBackend } from "../../gpu-runner/model/backend.ts";
import { exportPersonalModel, type ExportedModel } from "../../gpu-runner/model/export-model.ts";
import { describeHolder, folderHolder } from "../../gpu-runner/session/folder-lock.ts";
import { anotherSite, readStateOwner } from "../../gpu-runner/session/state-owner.ts";
import { intFlag, parseFlags, processIo, textFlag, UsageError, type CommandIo, type CommandSpec } from "./flags.ts";
import { currentInstalled } from "../../gpu-runner/session/installed-model.ts";
import { defaultStateDirHelp, exportStateDir, siteStateRoot } from "./site-state-dir.ts";

export const ExportFlags = z
  .object({
    "state-dir": textFlag().optional(),
    site: textFlag().regex(/^[a-z0-9-]+$/, "expected a site id (lower-case letters, digits and dashes), as consilium enrol prints it").optional(),
    token: textFlag().refine((t) => siteIdOfCredential(t) !== null, "expected a site credential cs_<siteId>_<secret>, as consilium enrol prints it").optional(),
    out: textFlag(),
    version: intFlag(1, 999_999).optional(),
  })
  .refine((f) => f.site === undefined || f.token === undefined || siteIdOfCredential(f.token) === f.site, "--site and the site of --token (or CONSILIUM_SITE_TOKEN) differ: give one");
export type ExportFlags = z.infer<typeof ExportFlags>;

export const exportSpec: CommandSpec<typeof ExportFlags> = {
  name: "site export",
  summary: "Writes the site's personalized model (global body + personal head) as TensorFlow.js model.json + weights.bin, with preprocessing.json beside them; model.json names the site, the model version and the federation.",
  schema: ExportFlags,
  flags: {
    "state-dir": { type: "string", value: "DIR", help: `the site's state, as written by consilium site (default ${defaultStateDirHelp}; without --site or a token, the one site folder under ${siteStateRoot})` },
    site: { type: "string", value: "ID", help: `the site whose state to export, from ${defaultStateDirHelp}` },
    token: { type: "string", value: "T", env: "CONSILIUM_SITE_TOKEN", secret: true, help: "instead of --site, the site's credential (only its site id is read)" },
    out: { type: "string", value: "DIR", help: "folder to write the model files to" },
    version: { type: "string", value: "V", help: "an installed registry version (consilium site --follow installs the champion; default: the one in use)" },
  },
};

/**
 * @example
 * const { siteId, modelVersion, files } = await exportCommand(["--site", "site-01", "--out", "model"]);
 */
export async function exportCommand(argv: readonly string[], options: { readonly io?: CommandIo } = {}): Promise<ExportedModel> {
  const io = options.io ?? processIo;
  const flags = parseFlags(exportSpec, argv, io.env);
  const asked = flags.site ?? (flags.token === undefined ? null : siteIdOfCredential(flags.token));
  const source = await exportStateDir(flags["state-dir"], asked);
  const stateDir = source.dir;
  if (source.note) io.err(source.note);
  const owner = await readStateOwner(stateDir).catch(() => null);
  if (owner && source.siteId !== null && owner.siteId !== source.siteId) throw new UsageError(anotherSite(stateDir, owner.siteId, source.siteId).message);
  if (flags.version === undefined && (await currentInstalled(stateDir)) === null) {
    await access(join(stateDir, "personal.json")).catch(() => {
      throw new Error(`no personal model in ${stateDir}: run consilium site until the federation finishes first`);
    });
  }
  // No lock taken: every state file is replaced whole, and a half-saved model is read again.
  const running = await folderHolder(stateDir);
  if (running && !running.stale) io.err(`${describeHolder(running.holder)} is running on ${stateDir}: exporting the last model it saved`);
  await selectBackend();
  const written = await exportPersonalModel(stateDir, resolve(flags.out), { siteId: source.siteId ?? owner?.siteId ?? null, ...(flags.version !== undefined && { version: flags.version }) });
  // What was written on the error stream, as progress is; the output stream lists the files only.
  const federation = written.federation === null ? "" : ` of federation ${written.federation}`;
  const site = written.siteId === null ? "a site not named by its state folder (give --site ID to name it)" : `site ${written.siteId}`;
  const what = written.installed ? `installed registry version ${written.modelVersion} (${written.installed.kind})` : `personalized model v${written.modelVersion}${federation}`;
  io.err(`exported ${site}: ${what}, to ${resolve(flags.out)}`);
  for (const file of written.files) io.out(file);
  return written;
}
