/**
 * @module
 * `consilium site`: one hospital's runner against a coordinator, on this machine's own rows. Only
 * statistics, body deltas and evaluation counts leave; the personal model stays in --state-dir.
 */
import { z } from "zod";
import { DEFAULT_RETRY } from "../../client/api.ts";
import { CoordinatorClient } from "../../client/coordinator-client.ts";
import { ConsiliumError } from "../../core/errors.ts";
import type { SiteEvaluation, Task } from "../../core/schemas/task.ts";
import { siteIdOfCredential } from "../../core/site-credential.ts";
import type { SiteData } from "../../gpu-runner/data/builtin-datasets.ts";
import { heartDiseaseSites, loadSiteData as loadSiteSource, SiteDataError, type SiteSource } from "../../gpu-runner/data/site-data.ts";
import { BackendName, selectBackend } from "../../gpu-runner/model/backend.ts";
import { runSite, type RunnerEvent } from "../../gpu-runner/session/site-runner.ts";
import { defaultStateDirHelp, siteStateDir } from "./site-state-dir.ts";
import { labelLines } from "../../core/preprocess/label.ts";
import { evaluationLines } from "../evaluation-lines.ts";
import { assumedUnitsLine } from "../../gpu-runner/session/check-columns.ts";
import { missingLines } from "../../core/preprocess/missing-summary.ts";
import { columnMap, columnMapFlags } from "./column-map.ts";
import { DEFAULT_MIN_ROWS, smallSites } from "../small-data.ts";
import { boolFlag, choiceFlag, fractionFlag, intFlag, ioLogger, parseFlags, processIo, textFlag, UsageError, urlFlag, type CommandIo, type CommandSpec } from "./flags.ts";

const datasetSites = ["heart-disease:cleveland", "heart-disease:hungarian", "heart-disease:switzerland", "heart-disease:va"] as const satisfies readonly `heart-disease:${(typeof heartDiseaseSites)[number]}`[];

/** How long a runner waits out an unreachable coordinator unless --patience says. */
const DEFAULT_PATIENCE_SECONDS = 1800;

const SiteToken = textFlag().refine((t) => siteIdOfCredential(t) !== null, "expected a site credential cs_<siteId>_<secret> (cs_<siteId>.<n>_<secret> after a rotation), as consilium enrol or consilium sites rotate prints it");

export const SiteFlags = z
  .object({
    coordinator: urlFlag(),
    token: SiteToken,
    data: textFlag().optional(),
    test: textFlag().optional(),
    "test-fraction": fractionFlag().optional(),
    seed: intFlag(0, 2 ** 32 - 1).default(1),
    "state-dir": textFlag().optional(),
    "dp-max-epsilon": z
      .string()
      .regex(/^\s*(\d+\.?\d*|\.\d+)\s*$/, "expected a positive number")
      .transform(Number)
      .pipe(z.number().positive("expected a positive number").max(1000))
      .optional(),
    patience: intFlag(0, 7 * 24 * 3600).default(DEFAULT_PATIENCE_SECONDS),
    backend: choiceFlag(BackendName).optional(),
    "dataset-site": choiceFlag(datasetSites).optional(),
    fhir: textFlag().optional(),
    cdm: textFlag().optional(),
    map: textFlag().optional(),
    "map-file": textFlag().optional(),
    delimiter: choiceFlag(["comma", "semicolon", "tab"]).optional(),
    "min-rows": intFlag(0, 1_000_000).default(DEFAULT_MIN_ROWS),
    follow: boolFlag(),
    "pull-every": intFlag(1, 7 * 24 * 3600).default(60),
    "check-in-every": intFlag(1, 31 * 24 * 3600).default(3600),
    verbose: boolFlag(),
  })
  .refine((f) => (f.map === undefined && f["map-file"] === undefined) || f.data !== undefined, "--map and --map-file rename the columns of --data")
  .refine((f) => f.delimiter === undefined || f.data !== undefined, "--delimiter goes with --data")
  .refine((f) => [f.data, f["dataset-site"], f.fhir].filter((v) => v !== undefined).length === 1, "give exactly one of --data FILE.csv, --fhir DIR or --dataset-site NAME:SITE")
  .refine((f) => f.cdm === undefined || f.fhir !== undefined, "--cdm goes with --fhir")
  .refine((f) => f.fhir === undefined || f.test === undefined, "--fhir holds out --test-fraction of its patients; drop --test")
  .refine((f) => f.test === undefined || f["test-fraction"] === undefined, "give --test FILE.csv or --test-fraction F, not both")
  .refine((f) => f["dataset-site"] === undefined || (f.test === undefined && f["test-fraction"] === undefined), "--dataset-site brings its own test split; drop --test and --test-fraction");
export type SiteFlags = z.infer<typeof SiteFlags>;

export const siteSpec: CommandSpec<typeof SiteFlags> = {
  name: "site",
  summary:
    "Runs one hospital's runner against the coordinator until the federation is done, then prints its evaluation on its own test rows. With --follow it keeps running: it joins each new run and installs the consortium's champion whenever it changes (personal head refitted, kept only when at least as good as the global model on this site's test rows).",
  schema: SiteFlags,
  flags: {
    coordinator: { type: "string", value: "URL", help: "the coordinator's URL" },
    token: { type: "string", value: "T", env: "CONSILIUM_SITE_TOKEN", secret: true, help: "the site credential from consilium enrol (the site id is read from it)" },
    data: { type: "string", value: "FILE.csv", help: "this site's rows (a header row; .csv.gz too)" },
    test: { type: "string", value: "FILE.csv", help: "held-out rows for the evaluation (default: split off --data)" },
    "test-fraction": { type: "string", value: "F", help: "without --test: share of --data held out, drawn uniformly at random by --seed (default 0.3)" },
    seed: { type: "string", value: "S", help: "seed of the train/test split (default 1)" },
    "state-dir": { type: "string", value: "DIR", help: `where the personal model and the site's other state are kept, one runner at a time (default ${defaultStateDirHelp}, the id read from the credential)` },
    "dp-max-epsilon": { type: "string", value: "E", env: "CONSILIUM_DP_MAX_EPSILON", help: "under a privacy policy, this hospital's own cap on ε when it is below the consortium's: rounds past it are declined" },
    patience: { type: "string", value: "SECONDS", env: "CONSILIUM_PATIENCE", help: `how long a coordinator or store that cannot be reached, or answers 5xx, is waited out before the runner stops (default ${DEFAULT_PATIENCE_SECONDS}, 30 minutes; exponential backoff with jitter, Retry-After honoured)` },
    backend: { type: "string", value: "NAME", help: `TensorFlow.js backend: ${BackendName.join(", ")} (default: the fastest that loads)` },
    "dataset-site": { type: "string", value: "NAME:SITE", help: `instead of --data, one hospital of a shipped dataset with its FLamby split: ${datasetSites.join(", ")}` },
    fhir: { type: "string", value: "DIR", help: "instead of --data, this hospital's FHIR R4 resources: Patient/Observation/Condition .ndjson files or one bundle.json in DIR, mapped onto the common data model" },
    map: { type: "string", value: "LOCAL=CONSORTIUM,…", help: "this site's column names onto the consortium's, e.g. cholesterol=chol,max_hr=thalach" },
    "map-file": { type: "string", value: "FILE.csv", help: "the same mapping as a CSV with the columns local,consortium (one row per renamed column)" },
    delimiter: { type: "string", value: "D", help: "the delimiter of --data and --test: comma, semicolon or tab (default: detected from the header row)" },
    "min-rows": { type: "string", value: "N", help: `warn when this site has fewer than N training or test rows (default ${DEFAULT_MIN_ROWS})` },
    cdm: { type: "string", value: "FILE.json", help: "with --fhir, the consortium's common data model (default DIR/cdm.json when present, else the built-in cardiovascular model)" },
    follow: { type: "boolean", help: "keep running: join every run the consortium starts, and install the champion whenever it changes (until SIGINT/SIGTERM)" },
    "pull-every": { type: "string", value: "SECONDS", help: "with --follow, how often the champion is checked (default 60; and once as each run ends)" },
    "check-in-every": { type: "string", value: "SECONDS", help: "with --follow, how often the site sends its current statistics between runs, for drift and new-data triggers (default 3600)" },
    verbose: { type: "boolean", help: "print the runner's info lines" },
  },
};

export interface SiteCommandOptions {
  /** Aborting it stops the runner after the step in hand; the CLI wires it to SIGINT/SIGTERM. */
  readonly signal?: AbortSignal;
  readonly io?: CommandIo;
}

export interface SiteResult {
  readonly siteId: string;
  readonly backend: BackendName;
  /** Null when stopped, or when the federation finished without this site's evaluation. */
  readonly evaluation: SiteEvaluation | null;
}

/** The source the flags name; a source that cannot be used is a usage error naming its flag. */
export async function loadSiteData(flags: SiteFlags, io: CommandIo = processIo): Promise<SiteData> {
  const picked = flags["dataset-site"];
  const testFraction = flags["test-fraction"] ?? 0.3;
  const source: SiteSource =
    picked !== undefined
      ? { kind: "heart-disease", site: picked.slice("heart-disease:".length) as (typeof heartDiseaseSites)[number] }
      : flags.fhir !== undefined
        ? { kind: "fhir", dir: flags.fhir, ...(flags.cdm !== undefined && { cdm: flags.cdm }), testFraction, seed: flags.seed }
        : {
            kind: "csv",
            data: flags.data ?? "",
            ...(flags.test !== undefined && { test: flags.test }),
            testFraction,
            seed: flags.seed,
            ...(flags.delimiter !== undefined && { delimiter: flags.delimiter }),
            map: await columnMap(flags),
          };
  try {
    return await loadSiteSource(source, (line) => io.err(line));
  } catch (err) {
    if (err instanceof SiteDataError) throw new UsageError(`--${err.input}: ${err.message}`);
    throw err;
  }
}

/** Progress on the error stream, one line per step; the evaluation goes to the output stream. */
function reporter(io: CommandIo, rounds: () => number): (e: RunnerEvent) => void {
  return (e) => {
    if (e.kind === "stats") {
      io.err(`sent feature statistics of ${e.rows} labelled training rows`);
      if (e.data) {
        const [counts = "", ...changes] = labelLines(e.data.label);
        const [summary = "", ...heavy] = missingLines(e.data.missing);
        io.err(counts);
        io.err(summary);
        const assumed = assumedUnitsLine(e.data.assumedUnits);
        if (assumed) io.err(assumed);
        for (const line of [...changes, ...heavy]) io.err(`warn ${line}`);
      }
    } else if (e.kind === "trained") io.err(`round ${e.round}/${rounds() || "?"}: trained, loss ${e.loss.toFixed(4)}, ${e.bytesUp} bytes up`);
    else if (e.kind === "skipped") io.err(`round ${e.round}: coordinator refused the step (${e.code}): ${e.message}`);
    else if (e.kind === "checked-in") io.err(`checked in: ${e.flags === 0 ? "no drift flagged" : e.reasons.join("; ")}${e.triggered.length ? `; triggered ${e.triggered.join(", ")}` : ""}`);
    else if (e.kind === "installed") io.out(`installed version ${e.version}${e.previous === null ? "" : ` (was ${e.previous})`}: ${e.reason}`);
    else for (const line of evaluationLines(e.evaluation)) io.out(line);
  };
}

/** What a runner's failure means to the hospital running it, for the codes that say something about what to do. */
function siteFailure(err: unknown, coordinator: string, patience: number): unknown {
  if (!(err instanceof ConsiliumError)) return err;
  if (err.code === "COORDINATOR_UNREACHABLE" || err.code === "STORE_UNREACHABLE") {
    return new Error(`cannot reach the coordinator at ${coordinator} after waiting ${patience} s (${err.message}); start the runner again with the same --state-dir to resume`);
  }
  if (err.code === "CREDENTIAL_ROTATED" || err.code === "CREDENTIAL_EXPIRED") {
    return new Error(`the coordinator at ${coordinator} does not accept this site's credential (${err.code}): ${err.message}; start the runner again with the new credential (CONSILIUM_SITE_TOKEN) and the same state folder`);
  }
  if (err.status === 401) return new Error(`the coordinator at ${coordinator} does not accept this site's credential (${err.code}): ${err.message}; a revoked or mistyped credential needs a new one from the consortium (consilium enrol)`);
  if (err.code === "SITE_EXCLUDED") return new Error(`the consortium's data-quality checks excluded this site (${err.message})`);
  return err;
}

/**
 * Runs this site until the federation is done (or `signal` aborts).
 * @example
 * const { evaluation } = await siteCommand(["--coordinator", url, "--data", "rows.csv"], { signal });
 */
export async function siteCommand(argv: readonly string[], options: SiteCommandOptions = {}): Promise<SiteResult> {
  const io = options.io ?? processIo;
  const flags = parseFlags(siteSpec, argv, io.env, (line) => io.err(line));
  const logger = ioLogger(io, flags.verbose);
  const siteId = siteIdOfCredential(flags.token) ?? "";
  const data = await loadSiteData(flags, io);
  const backend = await selectBackend(flags.backend);
  // Locked by runSite for as long as it runs.
  const stateDir = await siteStateDir(flags["state-dir"], siteId);
  io.err(`site ${siteId}: ${data.train.rows.length} training and ${data.test.rows.length} test rows from ${data.name}; backend ${backend}; state in ${stateDir}`);
  for (const line of smallSites([{ ...data, name: siteId }], flags["min-rows"])) io.err(`warn ${line}`);
  let rounds = 0;
  // The round count arrives with the first training task; the runner's events do not carry it.
  const client = new (class extends CoordinatorClient {
    override async task(): Promise<Task> {
      const task = await super.task();
      if (task.kind === "train") rounds = task.rounds;
      return task;
    }
  })(flags.coordinator, flags.token, fetch, {
    policy: { ...DEFAULT_RETRY, patienceMs: flags.patience * 1000 },
    signal: options.signal,
    onRetry: (n) => logger.warn(`${n.what}: ${n.reason}; trying again in ${(n.pauseMs / 1000).toFixed(1)} s (attempt ${n.attempt + 1})`),
  });
  const cap = flags["dp-max-epsilon"];
  const evaluation = await runSite({ siteId, client, data, stateDir, ...(cap !== undefined && { privacyCap: cap }), logger, signal: options.signal, onEvent: reporter(io, () => rounds), ...(flags.follow && { follow: { pullEveryMs: flags["pull-every"] * 1000, checkInEveryMs: flags["check-in-every"] * 1000 } }) }).catch((err: unknown) => {
    throw siteFailure(err, flags.coordinator, flags.patience);
  });
  if (evaluation === null && !options.signal?.aborted) io.err("the federation finished without an evaluation from this site");
  return { siteId, backend, evaluation };
}
