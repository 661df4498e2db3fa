/**
 * @module
 * Writes docs/cli.md from the command specs (`cli/commands/*-command.ts`) and the list of flag
 * combinations (`cli/flag-combinations.ts`), so that the reference cannot drift from the flags the
 * commands parse. `npm run docs:cli` runs it; `cli/cli-docs.test.ts` fails when the file is stale.
 */
import { doctorSpec } from "../cli/commands/doctor-command.ts";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import { coordinatorSpec } from "../cli/commands/coordinator-command.ts";
import { enrolSpec } from "../cli/commands/enrol-command.ts";
import { exportSpec } from "../cli/commands/export-command.ts";
import { federationInitSpec } from "../cli/commands/federation-command.ts";
import { modelsSpec } from "../cli/commands/models-command.ts";
import { runsSpec } from "../cli/commands/runs-command.ts";
import { continuousSpec } from "../cli/commands/continuous-command.ts";
import { predictSpec } from "../cli/commands/predict-command.ts";
import { serveSpec } from "../cli/commands/serve-command.ts";
import { flagTable, type CommandSpec } from "../cli/commands/flags.ts";
import { simulateSpec } from "../cli/commands/simulate-command.ts";
import { siteSpec } from "../cli/commands/site-command.ts";
import { synthSpec } from "../cli/commands/synth-command.ts";
import { FLAG_COMBINATIONS } from "../cli/flag-combinations.ts";
import { auditSpec } from "../cli/commands/audit-command.ts";
import { operatorsSpec } from "../cli/commands/operators-command.ts";
import { sitesSpec } from "../cli/commands/sites-command.ts";
import { roundsSpec, statusSpec } from "../cli/commands/status-command.ts";
import { reportSpec } from "../cli/commands/report-command.ts";
import { federationCreateSpec } from "../cli/commands/federation-command.ts";

/** Every command, in the order `consilium --help` lists them. */
export const COMMAND_SPECS: readonly CommandSpec<z.ZodType>[] = [simulateSpec, coordinatorSpec, enrolSpec, siteSpec, exportSpec, predictSpec, serveSpec, federationInitSpec, modelsSpec, runsSpec, auditSpec, operatorsSpec, sitesSpec, statusSpec, roundsSpec, reportSpec, federationCreateSpec, continuousSpec, synthSpec, doctorSpec];

/** Where the generated reference lives, from the repository root. */
export const CLI_DOCS_PATH = "docs/cli.md";

const fence = (lines: readonly string[]) => ["```sh", ...lines, "```"].join("\n");

/** Prose that goes with a command, after its flag table: examples and what the flags cannot say. */
const NOTES: Readonly<Record<string, string>> = {
  simulate: [
    "Examples:",
    "",
    fence([
      "npx consilium simulate --dataset heart-disease --seeds 5 --json report.json",
      "npx consilium simulate --dataset wdbc --sites 8 --split dirichlet:0.5",
      "npx consilium simulate --data my.csv --label outcome --positive yes --ignore patient_id --sites 5 --split iid",
      "npx consilium simulate --dataset wdbc --sites 10 --strategy robust --scoring --attack sign-flip --malicious 0.2",
      "npx consilium simulate --dataset heart-disease --strategy fedavg --scoring --validation 0.15 --attack scale:-10 --malicious 0.25",
    ]),
    "",
    "A CSV of your own needs only flags: columns whose values are all numbers (a unit such as `mg/dL`",
    "in every cell is read and recorded) become numeric features, others categorical, dates are left",
    "out; every column that cannot be used (an identifier, free text, stray text in a number column,",
    "mixed units) is listed in one error with its remedy (`--ignore`, `--missing`). Empty cells, `NA`",
    "and `?` are missing values. The run prints which label value is positive with its counts, the",
    "label spellings it merged, the rows it left out and each feature's imputed share; `--split",
    "column:NAME` names the sites by that column's values and never uses it as a feature. See",
    "[concepts.md](concepts.md#a-hospitals-own-data).",
    "",
    "The attack lab (`--attack`, `--malicious`) and contribution scoring (`--scoring`, `--validation`)",
    "are described in [concepts.md](concepts.md#contribution-scoring), and what they achieve in",
    "[results.md](results.md#attacks-robust-aggregation-and-contribution-scoring). The strategy,",
    "codec, privacy, secure-aggregation, asynchronous and regional settings are described in",
    "[concepts.md](concepts.md).",
    "",
    "### The `--json` report",
    "",
    "One zod schema, `Report` in `core/schemas/report.ts`. Every figure is `{mean, sd}` over the seeds",
    "run (sd 0 for one seed), so scripts read the same keys whatever `--seeds` was; `runs[]` keeps each",
    "seed's plain numbers. Stable keys: `backend`, `sites[]` (`id`, `name`, `trainRows`, `testRows`,",
    "`accuracy.{global,personalized,local,centralized}`),",
    "`meanSiteAccuracy.{global,personalized,local,centralized}`, `federatedToCentralized`,",
    "`pooled.{global,personalized,local,centralized}.{accuracy,auroc,sensitivity,specificity}`,",
    "`rounds[]` (`round`, `auroc` of the model the round produced, `bytesUp`, `bytesDown`),",
    "`bytes.{up,down}`, `wallSeconds`, `rejections`, `data` (what reading the data decided: `label` with",
    "`column`, `positive`, `positives`, `negatives`, `unlabelled`, `unrecognised`, `merged[]`; `notes[]`;",
    "`warnings[]`). Per run: `runs[].pooled.*.intervals` and `runs[].sites[].accuracyIntervals` (95 %",
    "intervals, `[lo, hi]` or null). With the attack lab and scoring:",
    "`runs[].malicious` (site ids), `runs[].quarantined`, `runs[].firstQuarantined` (site id → round),",
    "and `runs[].rounds[].scores` (site id → `distance`, `agreement`, `alignment`, `norm`, `gain` with a",
    "validation set, `action`). Under a privacy policy, `runs[].privacy[]` (`siteId`, `level`,",
    "`epsilon` spent, `delta`, `budget`, `noiseMultiplier`, `refusedRounds`).",
  ].join("\n"),
  coordinator: [
    "Without `--s3-endpoint` the coordinator keeps its state in an embedded S3/SQS store on disk",
    "(`--data-dir`), which checks every request's signature; started again on the same folder it",
    "carries on the same federation. Sites on other machines reach it through `--public-url`",
    "([one-machine.md](one-machine.md)). Deploying on AWS is described in [deploy.md](deploy.md).",
  ].join("\n"),
  enrol: "Prints `{\"siteId\": …, \"token\": …}`; the token is shown once and only its hash is stored.",
  "site export": [
    "A federation across machines ([deploy.md](deploy.md)):",
    "",
    fence([
      'export CONSILIUM_ADMIN_TOKEN="$(openssl rand -base64 32)"',
      "consilium coordinator --dataset heart-disease --sites 2 --host 0.0.0.0 --s3-endpoint … --bucket … --queue-url …",
      'consilium enrol --coordinator http://coord:8787 --name "Cleveland Clinic"   # → token',
      "CONSILIUM_SITE_TOKEN=… consilium site --coordinator http://coord:8787 --dataset-site heart-disease:cleveland",
      "CONSILIUM_SITE_TOKEN=… consilium site export --out model/   # from .consilium/site/<site-id>",
    ]),
  ].join("\n"),
  "site predict": [
    "Writes `row,[id],score,decision,model_version,reason`: a row whose inputs the model cannot use (a",
    "number that does not parse, a level the consortium never saw, an absent column) gets an empty score",
    "and its reason; missing values are filled as the model's own preprocessing defines, and counted.",
    "A K-class model writes `row,[id],class,score,p:CLASS…,model_version,reason` instead: the most",
    "probable class, its probability and every class's (no threshold: `--threshold` is refused).",
    "",
    fence(["npx consilium site predict --site site-01 --data today.csv --id mrn --out scores.csv"]),
  ].join("\n"),
  "site serve": [
    "`POST /v1/predict` with `{\"rows\": [{column: value, …}]}` (at most 10,000 rows, 1 MiB) answers",
    "`{modelVersion, siteId, threshold, predictions: [{score, decision}]}` (a K-class model: threshold",
    "null and `[{class, score, probabilities: {CLASS: p, …}}]`); rows that cannot be scored",
    "answer 422 `BAD_ROWS` naming each row and column, and nothing is scored. `GET /v1/model` describes",
    "the model, `GET /healthz` answers `{ok: true}`. A model the runner installs is picked up on the next",
    "request.",
    "",
    fence(["npx consilium site serve --site site-01 --port 8790 &", "curl -s -XPOST 127.0.0.1:8790/v1/predict -d '{\"rows\":[{\"age\":61,\"chol\":240}]}'"]),
  ].join("\n"),
  "federation init": [
    "A consortium's FederationConfig from its own columns ([concepts.md](concepts.md#a-hospitals-own-data);",
    "`examples/consortium/` is a worked example):",
    "",
    fence([
      "npx consilium federation init --data cleveland.csv --dictionary dictionary.csv --sites 3 --out federation.json",
      "npx consilium coordinator --federation federation.json",
      "CONSILIUM_SITE_TOKEN=… npx consilium site --coordinator http://127.0.0.1:8787 --data hungarian.csv --map-file hungarian-map.csv",
    ]),
  ].join("\n"),
  models: [
    "A finished run registers its model as a version (card, weights, preprocessing, written once); the",
    "first version that beats chance (its pooled AUROC's 95 % interval above 0.5) becomes the champion.",
    "The champion moves only by compare-and-swap, with its reason recorded:",
    "",
    fence([
      "npx consilium models list --coordinator http://127.0.0.1:8787",
      "npx consilium models show 2 --coordinator http://127.0.0.1:8787 --json",
      'npx consilium models promote 2 --reason "better on the spring data" --expect-champion 1 --coordinator http://127.0.0.1:8787',
      'npx consilium models rollback --to 1 --reason "version 2 under-calls at site b" --coordinator http://127.0.0.1:8787',
    ]),
  ].join("\n"),
  synth: [
    "Hospitals differ as real ones do (age mix, prevalence, measurement shift, cholesterol recorded in",
    "mmol/L but declared mg/dL at one site, missingness, label noise) and the outcome follows a",
    "documented logistic model (`core/fhir/cardio-model.ts`); `manifest.json` records what was",
    "planted, and `cdm.json` the common data model the cohort is coded for. 500,000 patients over 20",
    "sites take about 21 s.",
    "",
    fence(["npx consilium synth --sites 10 --patients 50000 --out cohort", "npx consilium simulate --fhir cohort"]),
  ].join("\n"),
};

const anchor = (name: string) => `consilium-${name.replaceAll(" ", "-")}`;
const cell = (text: string) => text.replaceAll("|", "\\|");

function commandSection(spec: CommandSpec<z.ZodType>): string {
  const notes = NOTES[spec.name];
  return [`## consilium ${spec.name}`, "", spec.summary, "", flagTable(spec), ...(notes ? ["", notes] : [])].join("\n");
}

function combinationsSection(): string {
  return [
    "## Flags that compose",
    "",
    "<!-- From FLAG_COMBINATIONS in cli/flag-combinations.ts. -->",
    "",
    "How flags combine, as the commands behave today. Each entry shows the flags that matter; a",
    "`simulate` entry also needs its data (`--dataset`, `--data` or `--fhir`) unless it names one.",
    "Every refusal comes before anything runs, with exit code 2 and one line: flag parsing's own, or",
    "\"these flags cannot run together\" with the coordinator's reason, which a deployed coordinator",
    "gives as 400 `INVALID_CONFIG` for the same federation. A recipe's default strategy gives way to",
    "FedAvg, and the command says so, where the flags ask for what it cannot do.",
    "",
    "| flags | outcome |",
    "|---|---|",
    ...FLAG_COMBINATIONS.map((c) => `| \`${cell(c.flags)}\` | ${cell(c.outcome)} |`),
  ].join("\n");
}

/**
 * The whole of docs/cli.md, from the command specs and `FLAG_COMBINATIONS`.
 * @example
 * writeFileSync("docs/cli.md", renderCliDocs());
 */
export function renderCliDocs(): string {
  const index = COMMAND_SPECS.map((s) => `| [\`consilium ${s.name}\`](#${anchor(s.name)}) | ${cell(s.summary)} |`);
  return [
    "<!-- Generated by scripts/cli-docs.ts from cli/commands/*-command.ts and cli/flag-combinations.ts. Do not edit: run `npm run docs:cli`. -->",
    "",
    "# CLI reference",
    "",
    "`consilium <command> --help` prints each command's flags. Flags are validated before anything",
    "runs; a bad one exits with code 2 and one line naming it. From a clone of the repository,",
    "`npx consilium` runs the command (`node bin/consilium.mjs` does the same).",
    "",
    "A flag with an entry in the env column reads that environment variable when the flag is absent.",
    "Pass tokens that way rather than on the command line, where shell history and process lists",
    "keep them.",
    "",
    "| command | what it does |",
    "|---|---|",
    ...index,
    "",
    ...COMMAND_SPECS.flatMap((s) => [commandSection(s), ""]),
    combinationsSection(),
    "",
  ].join("\n");
}

/** The message of a stale docs/cli.md, or null when it is what `renderCliDocs` writes. */
export function cliDocsProblem(onDisk: string): string | null {
  return onDisk === renderCliDocs() ? null : `${CLI_DOCS_PATH} differs from the command specs: run \`npm run docs:cli\``;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const target = fileURLToPath(new URL(`../${CLI_DOCS_PATH}`, import.meta.url));
  writeFileSync(target, renderCliDocs());
  process.stdout.write(`wrote ${CLI_DOCS_PATH}\n`);
}
