/**
 * @module
 * `consilium federation init`: a consortium's FederationConfig from its own CSV columns. With a
 * data dictionary only the file's header is read, and the types, units, ranges, levels and label
 * rule come from the dictionary; without one they are inferred from this hospital's rows, on this
 * machine. No row, and no value but the label's, goes into the file written.
 */
import { access, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { z } from "zod";
import { positiveRule } from "../../core/preprocess/label.ts";
import type { FeatureSpec } from "../../core/schemas/feature-spec.ts";
import { parseDictionary, specFromDictionary } from "../../gpu-runner/data/data-dictionary.ts";
import { inferSpec } from "../../gpu-runner/data/infer-spec.ts";
import { DEFAULT_MISSING_TOKENS } from "../../core/schemas/feature-spec.ts";
import { readCsv, readCsvFile, readCsvHeader, readingNotes } from "../../gpu-runner/data/read-csv.ts";
import { defaultRecipe } from "../recipes.ts";
import { federationOf, slug } from "./federation-source.ts";
import { boolFlag, choiceFlag, commaList, intFlag, parseFlags, processIo, textFlag, UsageError, type CommandIo, type CommandSpec } from "./flags.ts";

export const FederationInitFlags = z
  .object({
    data: textFlag(),
    dictionary: textFlag().optional(),
    label: textFlag().optional(),
    positive: textFlag().optional(),
    ignore: textFlag().optional(),
    missing: textFlag().optional(),
    delimiter: choiceFlag(["comma", "semicolon", "tab"]).optional(),
    id: z
      .string({ error: (i) => (i.input === undefined ? "required" : "expected text") })
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "expected lower-case letters, digits and dashes, at most 63")
      .optional(),
    rounds: intFlag(1, 10_000).optional(),
    sites: intFlag(1, 1000).optional(),
    "secure-aggregation": boolFlag(),
    out: textFlag().default("federation.json"),
    force: boolFlag(),
  })
  .refine((f) => f.dictionary !== undefined || f.label !== undefined, "give --label COLUMN, or a --dictionary with a row of type label")
  .refine((f) => f.dictionary === undefined || f.missing === undefined, "--missing goes without --dictionary: the dictionary's missing field says it per column");
export type FederationInitFlags = z.infer<typeof FederationInitFlags>;

export const federationInitSpec: CommandSpec<typeof FederationInitFlags> = {
  name: "federation init",
  summary:
    "Writes a FederationConfig (for consilium coordinator --federation) from a CSV's columns. With --dictionary only the header of --data is read; without, column types and the label rule are inferred from its rows, here. No row, and no value but the label's, is written.",
  schema: FederationInitFlags,
  flags: {
    data: { type: "string", value: "FILE.csv", help: "a CSV with the consortium's column names (one hospital's rows, or a header alone with --dictionary)" },
    dictionary: { type: "string", value: "FILE.csv", help: "the data dictionary: a CSV with the fields column,type[,unit,min,max,levels,missing,impute,positive,negative,description]; type numeric, categorical, label, date, id or ignore; lists separated by |; the label's positive may be >N" },
    label: { type: "string", value: "COLUMN", help: "the outcome column (default: the dictionary's row of type label)" },
    positive: { type: "string", value: "VALUE", help: "the label value that means positive, any case (default: the dictionary's; inferred only for 0/1/2… and yes/no-like labels)" },
    ignore: { type: "string", value: "COL,COL", help: "columns that are not features" },
    missing: { type: "string", value: "V,V", help: 'without --dictionary: cells that mean "not recorded", on top of blank, NA and ?' },
    delimiter: { type: "string", value: "D", help: "comma, semicolon or tab (default: detected from the header row)" },
    id: { type: "string", value: "ID", help: "the federation id (default: from the file name)" },
    rounds: { type: "string", value: "N", help: `federated rounds (default ${defaultRecipe.rounds})` },
    sites: { type: "string", value: "N", help: "sites expected each round (default 4)" },
    "secure-aggregation": { type: "boolean", help: "sites mask their updates (SecAgg+); the coordinator sees only their sum" },
    out: { type: "string", value: "FILE.json", help: "where to write the FederationConfig (default federation.json)" },
    force: { type: "boolean", help: "overwrite --out if it exists" },
  },
};


/** The spec from the dictionary and the header, or inferred from the rows; what it decided, said. */
async function specOf(flags: FederationInitFlags, io: CommandIo): Promise<FeatureSpec> {
  const delimiter = flags.delimiter ? { delimiter: flags.delimiter } : {};
  const ignore = commaList(flags.ignore);
  const usage = (flag: string) => (err: unknown) => {
    throw new UsageError(`--${flag}: ${(err as Error).message}`);
  };
  if (flags.dictionary !== undefined) {
    const header = await readCsvHeader(flags.data, delimiter).catch(usage("data"));
    const rows = await readCsv(flags.dictionary).then((t) => parseDictionary(t, flags.dictionary ?? ""), usage("dictionary"));
    const made = (() => {
      try {
        return specFromDictionary(header.columns, rows, { ...(flags.label !== undefined && { label: flags.label }), ...(flags.positive !== undefined && { positive: flags.positive }), ignore });
      } catch (err) {
        return usage("dictionary")(err);
      }
    })();
    io.err(`read the header of ${flags.data} (${header.columns.length} columns, ${header.delimiter}-separated) and ${rows.length} rows of ${flags.dictionary}; no data row was read`);
    for (const note of made.notes) io.err(note);
    return made.spec;
  }
  const csv = await readCsvFile(flags.data, { ...delimiter, missing: [...DEFAULT_MISSING_TOKENS, ...commaList(flags.missing)] }).catch(usage("data"));
  const inferred = (() => {
    try {
      return inferSpec(csv.table, { label: flags.label ?? "", positive: flags.positive, ignore, missing: commaList(flags.missing), units: csv.units, unreadable: csv.unreadable });
    } catch (err) {
      return usage("data")(err);
    }
  })();
  io.err(`inferred the column types and the label rule from the ${csv.table.rows.length} rows of ${flags.data}, on this machine: check them, or describe the columns in a data dictionary (--dictionary)`);
  for (const note of [...readingNotes(flags.data, csv), ...inferred.notes]) io.err(note);
  return inferred.spec;
}

/** One line per feature: type, unit, range, levels, missing values. */
export function describeFeatures(spec: FeatureSpec): string[] {
  return spec.features.map((f) => {
    const parts = [f.type, f.unit && `in ${f.unit}`, f.range && `range ${f.range.min}–${f.range.max}`, f.levels && `levels ${f.levels.join("|")}`, f.missing.length > 0 && `missing ${f.missing.join("|")}`, f.impute === "median" && "imputed by its median"];
    return `  ${f.name}: ${parts.filter(Boolean).join(", ")}`;
  });
}

/**
 * Writes the FederationConfig; returns its path.
 * @example
 * await federationInitCommand(["--data", "rows.csv", "--dictionary", "dictionary.csv", "--out", "federation.json"]);
 */
export async function federationInitCommand(argv: readonly string[], io: CommandIo = processIo): Promise<string> {
  const flags = parseFlags(federationInitSpec, argv, io.env);
  if (!flags.force && (await access(flags.out).then(() => true, () => false))) throw new UsageError(`--out: ${flags.out} exists; pass --force to overwrite it`);
  const spec = await specOf(flags, io);
  const id = flags.id ?? slug(basename(flags.data).replace(/\.(csv|tsv|txt)(\.gz)?$/i, ""), "consortium");
  const { config, note } = federationOf(id, spec, defaultRecipe, { ...(flags.rounds !== undefined && { rounds: flags.rounds }), ...(flags.sites !== undefined && { sites: flags.sites }), secure: flags["secure-aggregation"] });
  await writeFile(flags.out, `${JSON.stringify(config, null, 2)}\n`);
  io.out(`federation ${config.id}: ${spec.features.length} features, label ${spec.label.column} (positive = ${spec.label.positiveAbove !== undefined ? `${spec.label.column} ` : ""}${positiveRule(spec.label)}${spec.label.negative ? `, negative = ${spec.label.negative.join(", ")}` : ""}), ${config.rounds} rounds of ${config.strategy}, ${config.expectedSites} sites`);
  for (const line of describeFeatures(spec)) io.out(line);
  if (note) io.out(note);
  io.out(`wrote ${flags.out}; start the coordinator with: consilium coordinator --federation ${flags.out}`);
  io.out(`each site maps its own column names onto these with consilium site --map LOCAL=CONSORTIUM,… (or --map-file)`);
  return flags.out;
}
