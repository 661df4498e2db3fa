/**
 * @module
 * `consilium site export`: the site's personalised model as TensorFlow.js files, for local inference.
 */
import { access } from "node:fs/promises";
import { join, resolve } from "node:path";
import { z } from "zod";
import { selectBackend } from "../../gpu-runner/model/backend.ts";
import { exportPersonalModel } from "../../gpu-runner/model/export-model.ts";
import { parseFlags, processIo, textFlag, type CommandIo, type CommandSpec } from "./flags.ts";

/** Where `consilium site` keeps its state unless told otherwise, under the working directory. */
export const defaultStateDir = join(".consilium", "site");

export const ExportFlags = z.object({
  "state-dir": textFlag().default(defaultStateDir),
  out: textFlag(),
});
export type ExportFlags = z.infer<typeof ExportFlags>;

export const exportSpec: CommandSpec<typeof ExportFlags> = {
  name: "site export",
  summary: "Writes the site's personalised model (global body + personal head) as TensorFlow.js model.json + weights.bin, with preprocessing.json beside them.",
  schema: ExportFlags,
  flags: {
    "state-dir": { type: "string", value: "DIR", help: `the site's state, as written by consilium site (default ${defaultStateDir})` },
    out: { type: "string", value: "DIR", help: "folder to write the model files to" },
  },
};

/**
 * @example
 * const { files } = await exportCommand(["--state-dir", ".consilium/site", "--out", "model"]);
 */
export async function exportCommand(argv: readonly string[], options: { readonly io?: CommandIo } = {}): Promise<{ files: string[] }> {
  const io = options.io ?? processIo;
  const flags = parseFlags(exportSpec, argv, io.env);
  const stateDir = resolve(flags["state-dir"]);
  await access(join(stateDir, "personal.json")).catch(() => {
    throw new Error(`no personal model in ${stateDir}: run consilium site until the federation finishes first`);
  });
  await selectBackend();
  const written = await exportPersonalModel(stateDir, resolve(flags.out));
  for (const file of written.files) io.out(file);
  return written;
}
