import { parseOperatingPoint } from "../../core/metrics/operating-point.ts";
import { DownlinkCodec, type TrainingConfig } from "../../core/schemas/federation.ts";
import { continuousCommand } from "./continuous-command.ts";
import type { ContinuousReport } from "../simulate-continuous.ts";
import { PrivacyPolicy } from "../../core/schemas/privacy.ts";
import { availableParallelism } from "node:os";
import { parseAttack } from "../../gpu-runner/simulation/attack.ts";
import { readFile, writeFile } from "node:fs/promises";
import { ConfigError } from "../../core/errors.ts";
import { modelLayout, outputCount } from "../../core/model/layout.ts";
import { modelFromLayersJson } from "../../core/model/layers-model.ts";
import { modelName, specOf, type ModelSpec } from "../../core/model/model-spec.ts";
import { mergeSiteStats } from "../../core/preprocess/merge-stats.ts";
import { computeSiteStats } from "../../core/preprocess/site-stats.ts";
import { renderHtmlReport } from "../html-report.tsx";
import { z } from "zod";
import { CodecSpecText } from "../../core/codec/index.ts";
import { summariseRuns } from "../../core/report/summarise-runs.ts";
import { Report, type RunReport } from "../../core/schemas/report.ts";
import { selectBackend, BackendName } from "../../gpu-runner/model/backend.ts";
import { defaultRecipe } from "../recipes.ts";
import { loadBuiltin, loadCsvDataset, loadFhirDataset, loadImageDataset, type LoadedData } from "../../gpu-runner/data/datasets.ts";
import { planProblem, simulateOnce } from "../simulate.ts";
import { holdOutValidation } from "../validation-split.ts";
import { createTerminal } from "../terminal.ts";
import { commaList, parseFlags, processIo, UsageError, type CommandIo, type CommandSpec } from "./flags.ts";
import { noiseProblem } from "../../core/preprocess/noisy-stats.ts";
import { AsyncPolicy } from "../../core/async/async-policy.ts";
import { parseSiteSpeeds } from "../../gpu-runner/simulation/site-speed.ts";
import { parseRegions } from "../regions.ts";
import { SecureAggregationPolicy } from "../../core/schemas/secure-aggregation.ts";
import { composeStrategy } from "../compose.ts";
import { printReport } from "../print-report.ts";
import { DEFAULT_MIN_ROWS, smallSites } from "../small-data.ts";
import { labelOf } from "../../core/preprocess/label.ts";
import type { Table } from "../../core/preprocess/table.ts";

const num = z.coerce.number();
const int = z.coerce.number().int();

/** Every flag of `consilium simulate`, validated before anything runs. */
export const SimulateFlags = z
  .object({
    dataset: z.enum(["heart-disease", "wdbc", "digits"]).optional(),
    data: z.string().optional(),
    fhir: z.string().min(1).optional(),
    images: z.string().min(1).optional(),
    label: z.string().optional(),
    positive: z.string().optional(),
    classes: z.string().min(1).optional(),
    ignore: z.string().optional(),
    missing: z.string().optional(),
    delimiter: z.enum(["comma", "semicolon", "tab"]).optional(),
    "min-rows": int.min(0).max(1_000_000).default(DEFAULT_MIN_ROWS),
    sites: int.min(1).max(1000).default(4),
    split: z.string().default("iid"),
    "test-fraction": num.gt(0).lt(1).default(0.3),
    model: z.string().optional(),
    "model-json": z.string().min(1).optional(),
    personalization: z
      .string()
      .regex(/^(residual|fedrep|finetune(:\d+)?|ditto:(\d+(\.\d+)?|\.\d+))$/, "expected residual, fedrep, finetune[:LAYERS] or ditto:LAMBDA")
      .optional(),
    head: z.string().min(1).optional(),
    rounds: int.min(1).max(10000).optional(),
    "local-epochs": int.min(1).max(1000).optional(),
    "local-steps": int.min(1).max(1_000_000).optional(),
    "lr-schedule": z.enum(["constant", "cosine"]).optional(),
    "batch-size": int.min(1).max(65536).optional(),
    lr: num.positive().max(10).optional(),
    l2: num.nonnegative().max(10).optional(),
    "prox-mu": num.nonnegative().max(100).optional(),
    "head-epochs": int.min(0).max(10000).optional(),
    "head-l2": num.nonnegative().max(100).optional(),
    "head-lr": num.positive().max(10).optional(),
    strategy: z.string().optional(),
    codec: CodecSpecText.default("float32"),
    "downlink-codec": DownlinkCodec.optional(),
    "quality-policy": z.enum(["warn", "exclude"]).optional(),
    "stats-epsilon": num.positive().max(100).optional(),
    "dp-epsilon": num.positive().max(1000).optional(),
    "dp-delta": num.positive().max(0.1).optional(),
    "dp-level": z.enum(["sample", "client"]).optional(),
    "dp-clip": num.positive().max(1e6).optional(),
    "round-deadline": int.min(1).default(600),
    mode: z.enum(["sync", "async"]).default("sync"),
    buffer: int.min(1).max(10000).optional(),
    "max-staleness": int.min(0).max(1000).optional(),
    "site-speed": z.string().optional(),
    regions: z.string().optional(),
    seed: int.min(0).default(1),
    seeds: int.min(1).max(100).default(1),
    backend: z.enum(BackendName).optional(),
    json: z.string().optional(),
    html: z.string().optional(),
    "state-dir": z.string().optional(),
    workers: int.min(0).max(64).default(availableParallelism()),
    attack: z
      .string()
      .refine((s) => {
        try {
          return parseAttack(s) !== null;
        } catch {
          return false;
        }
      }, "expected sign-flip, scale:F, gaussian:SIGMA, label-flip, alie[:Z] or ipm[:EPSILON]")
      .optional(),
    malicious: num.min(0).lt(1).optional(),
    scoring: z.boolean().default(false),
    "operating-point": z.string().refine((t) => parseOperatingPoint(t) !== null, "expected youden, sensitivity:T or specificity:T with T between 0 and 1").optional(),
    "secure-aggregation": z.boolean().default(false),
    dropout: num.min(0).lt(1).optional(),
    "secure-clip": num.positive().max(1e6).optional(),
    "phase-seconds": int.min(1).max(86_400).default(5),
    validation: num.gt(0).lt(1).optional(),
    quiet: z.boolean().default(false),
    verbose: z.boolean().default(false),
  })
  .refine((f) => [f.dataset, f.data, f.fhir, f.images].filter((x) => x !== undefined).length === 1, { message: "give exactly one of --dataset NAME, --data FILE.csv, --images DIR or --fhir DIR" })
  .refine((f) => f.model === undefined || f["model-json"] === undefined, { message: "give --model or --model-json, not both" })
  .refine((f) => f.head === undefined || f["model-json"] !== undefined, { message: "--head names a layer of --model-json" })
  .refine((f) => f.data === undefined || f.label !== undefined, { message: "--data needs --label COLUMN" })
  .refine((f) => f.classes === undefined || ((f.data !== undefined || f.images !== undefined) && f.positive === undefined), { message: "--classes goes with --data or --images, not with --positive" })
  .refine((f) => f.malicious === undefined || f.attack !== undefined, { message: "--malicious needs --attack SPEC" })
  .refine((f) => f.validation === undefined || f.scoring, { message: "--validation needs --scoring" })
  .refine((f) => f["secure-aggregation"] || (f.dropout === undefined && f["secure-clip"] === undefined), { message: "--dropout and --secure-clip need --secure-aggregation" })
  .refine((f) => f.mode === "async" || (f.buffer === undefined && f["max-staleness"] === undefined), { message: "--buffer and --max-staleness need --mode async" })
  .refine((f) => f["dp-epsilon"] !== undefined || (f["dp-delta"] === undefined && f["dp-level"] === undefined && f["dp-clip"] === undefined), {
    message: "--dp-delta, --dp-level and --dp-clip need --dp-epsilon E",
  });
export type SimulateFlags = z.infer<typeof SimulateFlags>;

/** The flag table of `consilium simulate`: parsing, `--help` and docs/cli.md. */
export const simulateSpec: CommandSpec<typeof SimulateFlags> = {
  name: "simulate",
  summary: "Runs a whole federation on this machine: embedded S3/SQS, the coordinator over HTTP and one runner per site.",
  schema: SimulateFlags,
  flags: {
    dataset: { type: "string", value: "NAME", help: "a shipped dataset: heart-disease (4 real hospitals), wdbc or digits (10 classes of 8×8 images; both spread over --sites)" },
    data: { type: "string", value: "FILE.csv", help: "your own CSV instead, spread over --sites simulated sites (needs --label)" },
    images: { type: "string", value: "DIR", help: "your own images instead: a folder of PNG files (all one size) and DIR/labels.csv with columns file and label, spread over --sites; each image a row of pixels for a cnn:HxWxC:… model (the size is printed)" },
    fhir: { type: "string", value: "DIR", help: "FHIR R4 data, a subdirectory per hospital (NDJSON or bundle.json, as consilium synth writes), mapped onto DIR/cdm.json or the synthetic cohort's data model" },
    label: { type: "string", value: "COLUMN", help: "the outcome column of --data" },
    classes: { type: "string", value: "LIST", help: "a K-class label for --data: its classes in order, comma-separated (the first is the reference, e.g. normal), or auto for every value the column takes; the model gets one output per class (softmax)" },
    positive: { type: "string", value: "VALUE", help: "the label value that means positive, any case (needed unless the label is 0/1/2…, where positive is above 0, or a yes/no-like pair such as yes/no, true/false, positive/negative)" },
    ignore: { type: "string", value: "COL,COL", help: "columns of --data to leave out" },
    missing: { type: "string", value: "V,V", help: 'cells of --data that mean "not recorded", on top of blank, NA and ?' },
    delimiter: { type: "string", value: "D", help: "the delimiter of --data: comma, semicolon or tab (default: detected from the header row)" },
    "min-rows": { type: "string", value: "N", help: `warn about a site with fewer than N training or test rows (default ${DEFAULT_MIN_ROWS})` },
    sites: { type: "string", value: "N", help: "simulated sites for wdbc, digits and --data (default 4; --split column:NAME makes one site per value instead)" },
    split: { type: "string", value: "SPLIT", help: "how rows are spread: iid, dirichlet:ALPHA or column:NAME (default iid)" },
    "test-fraction": { type: "string", value: "F", help: "held-out share of each site's rows (default 0.3)" },
    model: { type: "string", value: "MODEL", help: "logreg, mlp:H[,H...] or cnn:HxWxC:F[,F...][:D[,D...]] (3×3 ReLU convolutions of F filters each followed by 2×2 max pooling, then dense layers of D; default: the dataset's recipe)" },
    "model-json": { type: "string", value: "FILE", help: "instead of --model, a TensorFlow.js Layers model.json of your own (its architecture: Dense, Conv2D, MaxPooling2D, Flatten, Reshape, Dropout), checked against the features' width and the label's classes" },
    personalization: { type: "string", value: "METHOD", help: "how each site makes its personal model, kept only where it beats the global model on a validation share of its training rows: residual (a head on the output layer, the default), finetune[:LAYERS] (the last layers of the global model fine-tuned, default 1), ditto:LAMBDA (a model of its own trained every round, pulled towards the global one by LAMBDA) or fedrep (its head trained every round on the round's model, the shared body then trained with the head in place)" },
    head: { type: "string", value: "LAYER", help: "with --model-json: the layer the personal head sits on (the output layer; default: it)" },
    rounds: { type: "string", value: "N", help: "federated rounds (default: the recipe's)" },
    "local-epochs": { type: "string", value: "N", help: "local epochs per round (replaces --local-steps)" },
    "local-steps": { type: "string", value: "N", help: "local minibatch steps per round, equal at every site" },
    "lr-schedule": { type: "string", value: "S", help: "constant or cosine" },
    "batch-size": { type: "string", value: "N", help: "minibatch size" },
    lr: { type: "string", value: "X", help: "site learning rate" },
    l2: { type: "string", value: "X", help: "L2 penalty on kernels during local training" },
    "prox-mu": { type: "string", value: "MU", help: "FedProx: proximal pull of local training towards the round's global body (default 0, off)" },
    "head-epochs": { type: "string", value: "N", help: "epochs of personal-head fitting" },
    "head-l2": { type: "string", value: "X", help: "pull of the personal head towards the global output layer" },
    "head-lr": { type: "string", value: "X", help: "step size of personal-head fitting (default: --lr)" },
    strategy: { type: "string", value: "SPEC", help: "aggregation pipeline, e.g. fedavg, fedadam:0.05, scaffold, robust, clip:2,trimmed-mean:0.2,fedadam (docs/concepts.md; default: the recipe's, scaffold, or fedavg where the flags ask for what scaffold cannot do)" },
    codec: { type: "string", value: "SPEC", help: "update codec: float32, float16, int8[:CHUNK], int4[:CHUNK], topk:FRACTION+int8, topk:FRACTION+float16 or randk:FRACTION+int8 (default float32)" },
    "downlink-codec": { type: "string", value: "SPEC", help: "codec of the model deltas sent to sites that hold the previous model, not randk (default: --codec, int8 for randk; float32 sends whole models)" },
    "quality-policy": { type: "string", value: "POLICY", help: "what the data-quality checks do with a flagged site: warn (default) or exclude it from preprocessing, rounds and evaluation" },
    "dp-epsilon": { type: "string", value: "E", help: "differential privacy: each site's ε budget over the federation (sample level: DP-SGD; off when absent)" },
    "dp-delta": { type: "string", value: "D", help: "the δ of that budget (default 1e-5)" },
    mode: { type: "string", value: "MODE", help: "sync (default): every round waits for every site (or its deadline); async: buffered asynchronous rounds (FedBuff), a round closes at --buffer updates and late updates count in a later round, weighted by staleness" },
    buffer: { type: "string", value: "K", help: "with --mode async: updates per server step (default: all sites but one)" },
    "max-staleness": { type: "string", value: "S", help: "with --mode async: an update trained from a model more than S versions old is refused (default 10)" },
    regions: { type: "string", value: "SPEC", help: "regional tiers: a coordinator per region (own store and queue) and a global one that sees only regional aggregates; SPEC names each region's sites by 1-based number, e.g. eu:1-2;us:3-4;sg:5-6" },
    "site-speed": { type: "string", value: "SPEC", help: "simulated site speeds: SITE:Nx (compute slowdown), :N[k|m|g]bit (bandwidth), :Nms (latency), SITE a 1-based number or *, comma-separated (e.g. 3:10x or *:50mbit:20ms,3:10x)" },
    "stats-epsilon": { type: "string", value: "E", help: "sites add Gaussian noise to the statistics they send before training, spending ε = E (δ = 1e-6) once; needs a range for every numeric feature and levels for every categorical one (FHIR data models declare them)" },
    "dp-level": { type: "string", value: "LEVEL", help: "sample (DP-SGD, per-example clipping; default) or client (each site clips its update and adds its share of the noise)" },
    "dp-clip": { type: "string", value: "C", help: "the L2 bound per example (sample) or per update (client) (default 1)" },
    "round-deadline": { type: "string", value: "SECONDS", help: "a round aggregates what it has after this long (default 600)" },
    seed: { type: "string", value: "S", help: "seed of the split, initialisation and training (default 1)" },
    seeds: { type: "string", value: "N", help: "repeat with seeds S..S+N-1 and report mean ± sd (default 1)" },
    backend: { type: "string", value: "NAME", help: `TensorFlow.js backend: ${BackendName.join(", ")} (default: the fastest that loads)` },
    json: { type: "string", value: "FILE", help: "also write the report as JSON" },
    html: { type: "string", value: "FILE", help: "also write the report as one self-contained HTML file: its charts inline, it opens offline" },
    "state-dir": { type: "string", value: "DIR", help: "keep each site's personal model under DIR/<site-id>" },
    attack: { type: "string", value: "SPEC", help: "attack lab: malicious sites send sign-flip, scale:F, gaussian:SIGMA, label-flip, alie[:Z] or ipm[:EPSILON] updates" },
    malicious: { type: "string", value: "FRACTION", help: "with --attack: share of sites that are malicious, chosen by seed (default 0.2, at least one)" },
    "secure-aggregation": { type: "boolean", help: "secure aggregation (SecAgg+): sites mask their clipped, quantised updates and the coordinator sees only their sum; needs a mean-based strategy (fedavg when the recipe's cannot) and any codec but top-k" },
    dropout: { type: "string", value: "F", help: "with --secure-aggregation: this share of the sites, drawn afresh each round, drops out after uploading its masked input" },
    "secure-clip": { type: "string", value: "C", help: "with --secure-aggregation: L2 bound of each update before masking (default 10; the --dp-clip under client-level privacy)" },
    "phase-seconds": { type: "string", value: "S", help: "with --secure-aggregation: how long each key phase waits for sites before going on without them (default 5)" },
    scoring: { type: "boolean", help: "contribution scoring: score every update, keep a reputation per site, down-weight or quarantine offenders (docs/concepts.md)" },
    "operating-point": { type: "string", value: "RULE", help: "how the threshold the model is used at is chosen, on the sites' training rows pooled: youden (default), sensitivity:T (the most specific threshold catching at least T of the positives) or specificity:T" },
    validation: { type: "string", value: "FRACTION", help: "with --scoring: hold this share of each site's training rows at the coordinator as the validation set of validation-based scoring (simulation only)" },
    workers: { type: "string", value: "N", help: "worker threads for the site runners; 0 runs them in the main thread (default: the number of cores)" },
    quiet: { type: "boolean", help: "print the results, warnings and errors only: no progress" },
    verbose: { type: "boolean", help: "print the coordinator's and runners' info lines" },
  },
};

/** @throws UsageError naming the first bad flag; HelpRequested for --help. */
export function parseSimulateFlags(argv: string[]): SimulateFlags {
  return parseFlags(simulateSpec, argv);
}


/** How stale an update may be under --mode async unless --max-staleness says. */
const DEFAULT_MAX_STALENESS = 10;

/** What `parse` makes of a flag's value; its error becomes a usage error naming the flag. */
function flagValue<T>(flag: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError(`--${flag}: ${(err as Error).message}`);
  }
}


/** The model a `--model-json` file describes (`checkModelFits` then checks it against the data before anything starts). */
async function modelJson(file: string, head: string | undefined, line: (s: string) => void): Promise<ModelSpec> {
  const text = await readFile(file, "utf8").catch((err: unknown) => {
    throw new UsageError(`--model-json: ${(err as Error).message}`);
  });
  try {
    const read = modelFromLayersJson(text, head);
    for (const note of read.notes) line(note);
    return read.spec;
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`--model-json ${file}: ${err.message}`);
    throw err;
  }
}

/** Refuses a model the data's features or label do not fit (a cnn's image, a model.json's widths), as the coordinator would once the statistics merge. */
function checkModelFits(spec: ModelSpec, data: LoadedData, flag: string): void {
  const prep = mergeSiteStats(data.sites.map((s) => computeSiteStats(s.train, data.features)), data.features);
  try {
    modelLayout(spec, prep.inputs.length, outputCount(prep.label));
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`${flag}: ${err.message}`);
    throw err;
  }
}

/** `--classes`'s text: "auto", or the classes in order. */
const classesOf = (text: string): readonly string[] | "auto" => (text === "auto" ? "auto" : commaList(text));

/** `--personalization`'s text as the training config takes it. */
function personalizationOf(text: string): NonNullable<TrainingConfig["personalization"]> {
  const [method, value] = text.split(":");
  if (method === "ditto") return { method: "ditto", lambda: Number(value) };
  if (method === "finetune") return { method: "finetune", layers: value === undefined ? 1 : Number(value) };
  if (method === "fedrep") return { method: "fedrep" };
  return { method: "residual" };
}

/** The δ of the statistics' noise under --stats-epsilon. */
const STATS_DELTA = 1e-6;

/**
 * Runs the simulation the flags describe. Progress goes to `io.err` (none with --quiet), the
 * results to `io.out`.
 */
export async function simulateCommand(argv: string[], io: CommandIo = processIo): Promise<Report | ContinuousReport> {
  // A consortium over months is its own simulation, with its own flags.
  if (argv.some((a) => a === "--months" || a.startsWith("--months="))) return continuousCommand(argv, io);
  const flags = parseSimulateFlags(argv);
  const term = createTerminal({ quiet: flags.quiet, verbose: flags.verbose, io });
  const backend = await selectBackend(flags.backend);
  // Each seed draws its own partition of a table over sites (heart-disease keeps its real hospitals).
  const load = (seed: number) => {
    const partitionOpts = { sites: flags.sites, split: flags.split, testFraction: flags["test-fraction"], seed };
    if (flags.fhir !== undefined) return loadFhirDataset({ dir: flags.fhir, testFraction: flags["test-fraction"], seed });
    if (flags.images !== undefined) {
      return loadImageDataset({ ...partitionOpts, dir: flags.images, positive: flags.positive, ...(flags.classes !== undefined && { classes: classesOf(flags.classes) }) }).catch((err: unknown) => {
        throw new UsageError(`--images: ${(err as Error).message}`);
      });
    }
    return flags.dataset
      ? loadBuiltin(flags.dataset, partitionOpts)
      : loadCsvDataset({
          ...partitionOpts,
          file: flags.data ?? "",
          label: flags.label ?? "",
          positive: flags.positive,
          ...(flags.classes !== undefined && { classes: classesOf(flags.classes) }),
          ignore: commaList(flags.ignore),
          ...(flags.missing !== undefined && { missing: commaList(flags.missing) }),
          ...(flags.delimiter !== undefined && { delimiter: flags.delimiter }),
        }).catch((err: unknown) => {
          throw new UsageError(`--data: ${(err as Error).message}`);
        });
  };
  const data = await load(flags.seed);
  const speeds = flags["site-speed"] === undefined ? undefined : flagValue("site-speed", () => parseSiteSpeeds(flags["site-speed"] ?? "", data.sites.length));
  const regions = flags.regions === undefined ? undefined : flagValue("regions", () => parseRegions(flags.regions ?? "", data.sites.length));
  const noiseNeeds = flags["stats-epsilon"] !== undefined ? noiseProblem(data.features) : null;
  if (noiseNeeds) throw new UsageError(`--stats-epsilon: ${noiseNeeds}; FHIR data models (--fhir) declare them`);
  const r = defaultRecipe;
  const training = {
    ...r.training,
    ...(flags["local-epochs"] !== undefined && { localEpochs: flags["local-epochs"], localSteps: undefined }),
    ...(flags["local-steps"] !== undefined && { localSteps: flags["local-steps"] }),
    ...(flags["lr-schedule"] !== undefined && { lrSchedule: flags["lr-schedule"] }),
    ...(flags["batch-size"] !== undefined && { batchSize: flags["batch-size"] }),
    ...(flags.lr !== undefined && { learningRate: flags.lr }),
    ...(flags.l2 !== undefined && { l2: flags.l2 }),
    ...(flags["prox-mu"] !== undefined && { proximalMu: flags["prox-mu"] }),
    ...(flags["head-epochs"] !== undefined && { headEpochs: flags["head-epochs"] }),
    ...(flags["head-l2"] !== undefined && { headL2: flags["head-l2"] }),
    ...(flags["head-lr"] !== undefined && { headLearningRate: flags["head-lr"] }),
    ...(flags.personalization !== undefined && { personalization: personalizationOf(flags.personalization) }),
  };
  const model = flags["model-json"] === undefined ? (flags.model ?? r.model) : await modelJson(flags["model-json"], flags.head, term.line);
  checkModelFits(flagValue("model", () => specOf(model)), data, flags["model-json"] === undefined ? "--model" : `--model-json ${flags["model-json"]}`);
  const plan = {
    sites: data.sites,
    features: data.features,
    model,
    training,
    rounds: flags.rounds ?? r.rounds,
    strategy: flags.strategy ?? r.strategy,
    codec: flags.codec,
    ...(flags["downlink-codec"] !== undefined && { downlinkCodec: flags["downlink-codec"] }),
    ...(flags["quality-policy"] !== undefined && { quality: { policy: flags["quality-policy"] } }),
    ...(flags["stats-epsilon"] !== undefined && { statsNoise: { epsilon: flags["stats-epsilon"], delta: STATS_DELTA } }),
    ...(flags["dp-epsilon"] !== undefined && {
      privacy: PrivacyPolicy.parse({ level: flags["dp-level"] ?? "sample", epsilon: flags["dp-epsilon"], delta: flags["dp-delta"], clip: flags["dp-clip"] }),
    }),
    roundDeadlineSeconds: flags["round-deadline"],
    ...(flags.mode === "async" && {
      async: AsyncPolicy.parse({ bufferSize: flags.buffer ?? Math.max(1, data.sites.length - 1), maxStaleness: flags["max-staleness"] ?? DEFAULT_MAX_STALENESS }),
    }),
    ...(speeds && { speeds }),
    ...(regions && { regions }),
    stateDir: flags["state-dir"],
    workers: flags.workers,
    attack: flags.attack === undefined ? undefined : { spec: flags.attack, fraction: flags.malicious ?? 0.2 },
    scoring: flags.scoring ? { enabled: true } : undefined,
    ...(flags["operating-point"] !== undefined && { operatingPoint: parseOperatingPoint(flags["operating-point"])! }),
    ...(flags["secure-aggregation"] && {
      secureAggregation: SecureAggregationPolicy.parse({ phaseSeconds: flags["phase-seconds"], ...(flags["secure-clip"] !== undefined && { clip: flags["secure-clip"] }) }),
      ...(flags.dropout !== undefined && { dropout: flags.dropout }),
    }),
  };
  // The recipe's strategy gives way where it cannot run with the flags; what the flags ask for that cannot run is refused here.
  const composed = composeStrategy(plan.strategy, flags.strategy !== undefined, (strategy) => planProblem({ ...plan, strategy }, flags.seed));
  plan.strategy = composed.strategy;
  const mode = `${plan.async ? `, async (buffer ${plan.async.bufferSize}, staleness ≤ ${plan.async.maxStaleness})` : ""}${regions ? `, ${regions.length} regions (${regions.map((r) => `${r.name}: ${r.sites.length} sites`).join(", ")})` : ""}${plan.secureAggregation ? `, secure aggregation${plan.dropout ? ` (${Math.round(plan.dropout * 100)}% drop out after upload)` : ""}` : ""}`;
  term.line(`consilium simulate: ${data.name}, ${data.sites.length} sites, model ${modelName(plan.model)}, ${plan.rounds} rounds, ${plan.strategy}, codec ${plan.codec}${mode}, backend ${backend}`);
  if (composed.note) term.line(composed.note);
  for (const note of data.notes ?? []) term.line(note);
  const labelled = (t: Table) => {
    const col = t.columns.indexOf(data.features.label.column);
    return t.rows.filter((r) => labelOf(r[col] ?? "", data.features.label, data.features.missingTokens) !== null).length;
  };
  const warnings = [...(data.warnings ?? []), ...smallSites(data.sites, flags["min-rows"], labelled)];
  for (const warning of warnings) term.logger.warn(warning);
  const runs: RunReport[] = [];
  for (let k = 0; k < flags.seeds; k++) {
    const seed = flags.seed + k;
    if (flags.seeds > 1) term.line(`seed ${seed} (${k + 1}/${flags.seeds})`);
    const done = new Map<number, number>();
    const all = k === 0 ? data.sites : (await load(seed)).sites;
    const { sites, validation } = flags.validation === undefined ? { sites: all, validation: undefined } : holdOutValidation(all, flags.validation, seed);
    runs.push(
      await simulateOnce({ ...plan, sites, validation }, seed, {
        logger: term.logger,
        onEvent: (_site, e) => {
          if (e.kind !== "trained") return;
          done.set(e.round, (done.get(e.round) ?? 0) + 1);
          term.roundProgress(e.round, plan.rounds, done.get(e.round) ?? 0, data.sites.length);
        },
      }),
    );
    term.finish();
  }
  const report = Report.parse({
    ...summariseRuns({ backend, dataset: data.name, model: modelName(plan.model), strategy: plan.strategy, codec: plan.codec, roundsPlanned: plan.rounds }, runs),
    data: { ...(data.label && { label: data.label }), notes: [...(data.notes ?? [])], warnings },
  });
  printReport(report, term.result, term.tty);
  if (flags.json) await writeFile(flags.json, JSON.stringify(report, null, 2));
  if (flags.html) await writeFile(flags.html, renderHtmlReport(report));
  return report;
}
