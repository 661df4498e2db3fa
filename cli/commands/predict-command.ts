/**
 * @module
 * `consilium site predict`: the site's personal model scores a CSV of its own rows, with the
 * consortium's preprocessing the model carries, and writes one line per row: its score, the
 * decision at the operating threshold, the model version, or why it could not be scored.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { siteIdOfCredential } from "../../core/site-credential.ts";
import { readCsvFile, readingNotes, type CsvFile } from "../../gpu-runner/data/read-csv.ts";
import { mapColumns, SiteDataError } from "../../gpu-runner/data/site-data.ts";
import { columnMap, columnMapFlags } from "./column-map.ts";
import { selectBackend } from "../../gpu-runner/model/backend.ts";
import { absentFeatures, decide, loadLocalModel, missingHint, scoreLocalRows, type LocalModel, type RowProblem } from "../../gpu-runner/model/local-model.ts";
import { describeHolder, folderHolder } from "../../gpu-runner/session/folder-lock.ts";
import { anotherSite, readStateOwner } from "../../gpu-runner/session/state-owner.ts";
import { ExportFlags } from "./export-command.ts";
import { choiceFlag, parseFlags, processIo, textFlag, UsageError, type CommandIo, type CommandSpec, type Flag } from "./flags.ts";
import { defaultStateDirHelp, exportStateDir, siteStateRoot } from "./site-state-dir.ts";

/** The flags that pick a site's state folder, as `consilium site export` takes them. */
export const modelSourceFlags = { "state-dir": ExportFlags.shape["state-dir"], site: ExportFlags.shape.site, token: ExportFlags.shape.token };
type ModelSourceFlags = { readonly "state-dir"?: string | undefined; readonly site?: string | undefined; readonly token?: string | undefined };

export const sameSite = (f: ModelSourceFlags): boolean => f.site === undefined || f.token === undefined || siteIdOfCredential(f.token) === f.site;
export const sameSiteMessage = "--site and the site of --token (or CONSILIUM_SITE_TOKEN) differ: give one";

export const modelSourceHelp: Readonly<Record<"state-dir" | "site" | "token", Flag>> = {
  "state-dir": { type: "string", value: "DIR", help: `the site's state, as written by consilium site (default ${defaultStateDirHelp}; without --site or a token, the one site folder under ${siteStateRoot})` },
  site: { type: "string", value: "ID", help: `the site whose personal model to use, from ${defaultStateDirHelp}` },
  token: { type: "string", value: "T", env: "CONSILIUM_SITE_TOKEN", secret: true, help: "instead of --site, the site's credential (only its site id is read)" },
};

/** The refusal of --threshold for a K-class model. */
export const kClassThreshold = (classes: readonly string[]): string =>
  `--threshold: the model has ${classes.length} classes (${classes.slice(0, 5).join(", ")}${classes.length > 5 ? ", …" : ""}) and decides by the most probable; a threshold is for a binary model`;

/** An operating threshold in [0, 1], given as text. */
export const thresholdFlag = () => {
  const message = "expected a number from 0 to 1";
  return z.string().regex(/^\s*(\d+\.?\d*|\.\d+)(e-?\d+)?\s*$/i, message).transform(Number).pipe(z.number().min(0, message).max(1, message));
};

/** How the threshold in force was chosen, for the lines that name it. */
export const thresholdSource = (given: number | undefined): string => (given === undefined ? "the one the site's evaluation counts use; --threshold sets another" : "--threshold");

/** What the state's `site.json` and the picked site say of whose model it is. */
export const modelOwner = (m: LocalModel): string => (m.siteId === null ? "a site not named by its state folder: give --site ID to name it" : `site ${m.siteId}`);

/** `personalized model v7 of federation fed-1 (site site-01)`. */
export const modelName = (m: LocalModel): string => `personalized model v${m.modelVersion}${m.federation === null ? "" : ` of federation ${m.federation}`} (${modelOwner(m)})`;

/**
 * The personal model of the site the flags pick, loaded with a tfjs backend ready. Refuses a
 * folder that is another site's, and says when a runner is at work on it.
 */
export async function openSiteModel(flags: ModelSourceFlags, io: CommandIo): Promise<LocalModel> {
  const asked = flags.site ?? (flags.token === undefined ? null : siteIdOfCredential(flags.token));
  const source = await exportStateDir(flags["state-dir"], asked);
  if (source.note) io.err(source.note);
  const owner = await readStateOwner(source.dir).catch(() => null);
  if (owner && source.siteId !== null && owner.siteId !== source.siteId) throw new UsageError(anotherSite(source.dir, owner.siteId, source.siteId).message);
  // No lock taken: every state file is replaced whole, and a half-saved model is read again.
  const running = await folderHolder(source.dir);
  if (running && !running.stale) io.err(`${describeHolder(running.holder)} is running on ${source.dir}: using the last model it saved`);
  await selectBackend();
  return loadLocalModel(source.dir, { siteId: source.siteId ?? owner?.siteId ?? null });
}

export const PredictFlags = z
  .object({
    data: textFlag(),
    out: textFlag(),
    ...modelSourceFlags,
    threshold: thresholdFlag().optional(),
    id: textFlag().optional(),
    delimiter: choiceFlag(["comma", "semicolon", "tab"]).optional(),
    map: textFlag().optional(),
    "map-file": textFlag().optional(),
  })
  .refine(sameSite, sameSiteMessage)
  .refine((f) => resolve(f.out) !== resolve(f.data), { path: ["out"], message: "is --data: write the scores to another file" });
export type PredictFlags = z.infer<typeof PredictFlags>;

export const predictSpec: CommandSpec<typeof PredictFlags> = {
  name: "site predict",
  summary:
    "Scores a CSV of this site's rows with its personalized model and the consortium's preprocessing the model carries, and writes a CSV: row, the --id column, score (probability of the positive class), decision at the threshold, model_version, and the reason a row could not be scored; for a K-class model, class (the most probable), score (its probability) and p:CLASS for each class in place of the decision. The label column, if present, is ignored.",
  schema: PredictFlags,
  flags: {
    data: { type: "string", value: "FILE.csv", help: "the rows to score (a header row; .csv.gz too; delimiter, decimal commas and units as consilium site reads them)" },
    out: { type: "string", value: "FILE.csv", help: "where to write the scores" },
    ...modelSourceHelp,
    threshold: { type: "string", value: "T", help: "the operating threshold: decision 1 at a score at or above it (default: the model's, 0.5, the one its evaluation counts use)" },
    id: { type: "string", value: "COLUMN", help: "a column of --data (as --map names it) copied to each line of the output, e.g. a patient or encounter id" },
    delimiter: { type: "string", value: "D", help: "the delimiter of --data: comma, semicolon or tab (default: detected from the header row)" },
    ...columnMapFlags,
  },
};


/** What was scored and written. */
export interface PredictResult {
  readonly siteId: string | null;
  readonly modelVersion: number;
  /** The operating threshold; null for a K-class model, which decides by its most probable class. */
  readonly threshold: number | null;
  readonly rows: number;
  readonly scored: number;
  /** Refused rows by `CODE column`; a row with several problems counts under each. */
  readonly refused: Readonly<Record<string, number>>;
  readonly out: string;
}

const quoted = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The file as read, its columns mapped; what cannot be read is a usage error naming its flag. */
async function readRows(flags: PredictFlags, map: Readonly<Record<string, string>>, model: LocalModel): Promise<{ csv: CsvFile; columns: readonly string[]; units: Record<string, string> }> {
  const file = flags.data;
  const csv = await readCsvFile(file, { ...(flags.delimiter && { delimiter: flags.delimiter }), missing: model.preprocessing.missingTokens }).catch((err: unknown) => {
    throw new UsageError(`--data: cannot read ${(err as Error).message}`);
  });
  let columns = csv.table.columns;
  if (Object.keys(map).length > 0) {
    try {
      columns = mapColumns(csv.table, map, file).columns;
    } catch (err) {
      if (err instanceof SiteDataError) throw new UsageError(`--map: ${err.message}`);
      throw err;
    }
  }
  const renamed = (c: string) => (Object.hasOwn(map, c) ? (map[c] ?? c) : c);
  const used = new Set(model.preprocessing.features.map((f) => f.column));
  // A column the reader could not read without guessing (several units, an ambiguous comma) is refused only where the model reads it.
  const unreadable = Object.entries(csv.unreadable).filter(([c]) => used.has(renamed(c)));
  if (unreadable.length > 0) throw new UsageError(`--data: ${file}: ${unreadable.map(([c, why]) => `column ${c}: ${why}`).join("; ")}`);
  const units: Record<string, string> = Object.create(null);
  for (const [c, u] of Object.entries(csv.units)) units[renamed(c)] = u;
  return { csv, columns, units };
}

/** The refusal of a file that lacks feature columns the model cannot do without, with the columns it could map. */
function lackingColumns(file: string, missing: readonly string[], unused: readonly string[], tokens: readonly string[]): UsageError {
  const names = missing.map((c) => `"${c}"`).join(", ");
  const one = missing.length === 1;
  const hint = unused.length > 0 ? `; columns here the model does not use: ${unused.join(", ")}: if one holds the same measurement, map it, e.g. --map ${unused[0]}=${missing[0]}` : "";
  return new UsageError(
    `--data: ${file} has no column ${names}: the model cannot score a row without ${one ? "it" : "them"} (where a value was not measured, give ${missingHint(tokens)} in the column)${hint}`,
  );
}

/**
 * @example
 * const { scored, refused } = await predictCommand(["--site", "site-01", "--data", "rows.csv", "--out", "scores.csv"]);
 */
export async function predictCommand(argv: readonly string[], options: { readonly io?: CommandIo } = {}): Promise<PredictResult> {
  const io = options.io ?? processIo;
  const flags = parseFlags(predictSpec, argv, io.env, (line) => io.err(line));
  const map = await columnMap(flags);
  const model = await openSiteModel(flags, io);
  if (flags.threshold !== undefined && model.classes) throw new UsageError(kClassThreshold(model.classes));
  const prep = model.preprocessing;
  const file = flags.data;
  const { csv, columns, units } = await readRows(flags, map, model);
  const id = flags.id;
  if (id !== undefined && !columns.includes(id)) throw new UsageError(`--id: ${file} has no column "${id}" (columns: ${columns.join(", ")})`);
  const features = new Set(prep.features.map((f) => f.column));
  const absent = absentFeatures(model, columns);
  if (absent.refused.length > 0) {
    throw lackingColumns(file, absent.refused.map((f) => f.column), columns.filter((c) => !features.has(c) && c !== prep.label.column && c !== id), prep.missingTokens);
  }
  for (const line of readingNotes(file, csv)) io.err(line);
  for (const [column, unit] of Object.entries(units)) {
    if (features.has(column)) io.err(`${file}: the model does not record the consortium's unit of ${column}: ${unit} must be the one this site trained with`);
  }
  if (columns.includes(prep.label.column)) io.err(`${file}: column ${prep.label.column} is the model's label: ignored, scores never read it`);
  for (const f of absent.imputed) io.err(`${file} has no column ${f.column}: every row is scored with ${f.name} missing, as the model's preprocessing defines (its missing-value indicator set)`);

  const index = new Map(columns.map((c, j) => [c, j] as const));
  const rows = csv.table.rows;
  const result = scoreLocalRows(model, rows.map((row) => (c: string) => {
    const j = index.get(c);
    return j === undefined ? undefined : row[j];
  }));
  const threshold = model.classes ? null : (flags.threshold ?? model.threshold);
  const byRow = new Map<number, RowProblem[]>();
  for (const p of result.problems) byRow.set(p.index, [...(byRow.get(p.index) ?? []), p]);
  const idAt = id === undefined ? -1 : (index.get(id) ?? -1);
  const names = model.classes ?? [];
  const head = model.classes ? ["class", "score", ...names.map((c) => `p:${c}`)] : ["score", "decision"];
  const lines = [["row", ...(id === undefined ? [] : [id]), ...head, "model_version", "reason"]];
  rows.forEach((row, i) => {
    const score = result.scores[i] ?? null;
    const reason = (byRow.get(i) ?? []).map((p) => `${p.code} ${p.column}: ${p.reason}`).join("; ");
    const k = result.classes?.[i] ?? null;
    const cells = model.classes
      ? k === null ? Array<string>(2 + names.length).fill("") : [names[k.best]!, String(score), ...k.probabilities.map(String)]
      : score === null || threshold === null ? ["", ""] : [String(score), String(decide(score, threshold))];
    lines.push([String(i + 1), ...(idAt < 0 ? [] : [row[idAt] ?? ""]), ...cells, String(model.modelVersion), reason]);
  });
  const out = resolve(flags.out);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${lines.map((l) => l.map(quoted).join(",")).join("\n")}\n`);

  const scored = result.scores.filter((s) => s !== null).length;
  const refused: Record<string, number> = {};
  for (const [, problems] of byRow) for (const key of new Set(problems.map((p) => `${p.code} ${p.column}`))) refused[key] = (refused[key] ?? 0) + 1;
  if (result.imputed.size > 0) io.err(`imputed as the model's preprocessing defines for missing values: ${[...result.imputed].map(([c, n]) => `${c} in ${plural(n, "row")}`).join(", ")}`);
  if (byRow.size > 0) {
    const reasons = Object.entries(refused).map(([key, n]) => `${n} ${key.replace(" ", " in ")}`).join(", ");
    io.err(`refused ${byRow.size} of ${plural(rows.length, "row")}, written with an empty score and the reason: ${reasons}`);
  }
  const rule = threshold === null ? `by its most probable of ${names.length} classes` : `at threshold ${threshold} (${thresholdSource(flags.threshold)})`;
  io.err(`scored ${scored} of ${plural(rows.length, "row")} of ${file} with the ${modelName(model)} ${rule}: ${out}`);
  return { siteId: model.siteId, modelVersion: model.modelVersion, threshold, rows: rows.length, scored, refused, out };
}
