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
import type { FederationConfig } from "../../core/schemas/federation.ts";
import { federationFromSource, federationOf, slug } from "./federation-source.ts";
import { boolFlag, choiceFlag, commaList, intFlag, parseFlags, processIo, textFlag, UsageError, urlFlag, type CommandIo, type CommandSpec } from "./flags.ts";
import { operatorClient } from "./operator-client.ts";

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

export const FederationCreateFlags = z
  .object({
    coordinator: urlFlag(),
    "admin-token": textFlag(),
    config: textFlag().optional(),
    dataset: choiceFlag(["heart-disease", "wdbc"]).optional(),
    cdm: textFlag().optional(),
    rounds: intFlag(1, 100000).optional(),
    sites: intFlag(1, 10000).optional(),
    "secure-aggregation": boolFlag(),
    json: boolFlag(),
  })
  .refine((f) => [f.config, f.dataset, f.cdm].filter((v) => v !== undefined).length === 1, "give one of --config FILE.json, --dataset NAME or --cdm FILE.json")
  .refine((f) => f.config === undefined || (f.rounds === undefined && f.sites === undefined && !f["secure-aggregation"]), "--rounds, --sites and --secure-aggregation go with --dataset or --cdm; a --config file sets its own");
export type FederationCreateFlags = z.infer<typeof FederationCreateFlags>;

export const federationCreateSpec: CommandSpec<typeof FederationCreateFlags> = {
  name: "federation create",
  summary: "Creates the consortium at a coordinator (an owner's credential): its standing agreement from a FederationConfig file (consilium federation init writes one), or a shipped dataset's or a common data model's features with the default recipe; its first run starts at once.",
  schema: FederationCreateFlags,
  flags: {
    coordinator: { type: "string", value: "URL", help: "the coordinator's URL" },
    "admin-token": { type: "string", value: "T", env: "CONSILIUM_ADMIN_TOKEN", secret: true, help: "an owner's credential: the bootstrap admin token or an owner operator's" },
    config: { type: "string", value: "FILE.json", help: "the FederationConfig to create" },
    dataset: { type: "string", value: "NAME", help: "or a shipped dataset's features with the default recipe: heart-disease or wdbc" },
    cdm: { type: "string", value: "FILE.json", help: "or a common data model's features and label, for FHIR sites, with the default recipe" },
    rounds: { type: "string", value: "N", help: "with --dataset or --cdm: federated rounds (default: the recipe's)" },
    sites: { type: "string", value: "N", help: "with --dataset or --cdm: sites expected before training starts (default 4)" },
    "secure-aggregation": { type: "boolean", help: "with --dataset or --cdm: secure aggregation (SecAgg+)" },
    json: { type: "boolean", help: "print the coordinator's answer as JSON" },
  },
};

/**
 * @example
 * await federationCreateCommand(["--coordinator", url, "--config", "consortium.json"]); // CONSILIUM_ADMIN_TOKEN: an owner's
 */
export async function federationCreateCommand(argv: readonly string[], options: { readonly io?: CommandIo; readonly fetchFn?: typeof fetch } = {}): Promise<FederationConfig> {
  const io = options.io ?? processIo;
  const flags = parseFlags(federationCreateSpec, argv, io.env, (line) => io.err(line));
  const o = { ...(flags.rounds !== undefined && { rounds: flags.rounds }), ...(flags.sites !== undefined && { sites: flags.sites }), secure: flags["secure-aggregation"] };
  const composed = await federationFromSource({ file: flags.config, dataset: flags.dataset, cdm: flags.cdm }, o).catch((err: unknown) => {
    throw err instanceof UsageError ? new UsageError(err.message.replace(/^--federation/, "--config")) : err;
  });
  if (composed === null) throw new UsageError("give one of --config FILE.json, --dataset NAME or --cdm FILE.json");
  const config: FederationConfig = composed.config;
  if (composed.note) io.err(composed.note);
  const answer = await operatorClient(flags.coordinator, flags["admin-token"], options.fetchFn).createFederation(config);
  if (flags.json) io.out(JSON.stringify(answer, null, 2));
  else io.out(`consortium ${config.id} created at ${flags.coordinator}: ${config.expectedSites} sites expected, ${config.rounds} rounds a run, ${config.strategy}, ${config.codec}; enrol its hospitals with consilium enrol --name NAME`);
  return config;
}
