/**
 * @module
 * `consilium coordinator`: the coordinator as one long-running process, on the embedded
 * S3/SQS-compatible server (loopback) or on real S3/SQS endpoints, until SIGINT/SIGTERM.
 */
import { withWriteOnceCache } from "../../functions/adapters/write-once-cache.ts";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { z } from "zod";
import { ConsiliumError } from "../../core/errors.ts";
import { parseModelSpec } from "../../core/model/model-spec.ts";
import { FederationConfig } from "../../core/schemas/federation.ts";
import { S3ObjectStore } from "../../functions/adapters/s3-object-store.ts";
import { SqsJobQueue } from "../../functions/adapters/sqs-job-queue.ts";
import type { CoordinatorDeps } from "../../functions/deps.ts";
import { keys } from "../../functions/keys.ts";
import { systemClock, type JobQueue, type ObjectStore } from "../../functions/ports.ts";
import { readJson } from "../../functions/repo.ts";
import { createFederation } from "../../functions/use-cases/create-federation.ts";
import { federationProblem } from "../../functions/use-cases/federation-problem.ts";
import { startCoordinator, type CoordinatorServer } from "../coordinator-server.ts";
import { startEmbeddedStack } from "../embedded-stack.ts";
import { defaultRecipe, type Recipe } from "../recipes.ts";
import { loadBuiltin } from "../../gpu-runner/data/datasets.ts";
import type { FeatureSpec } from "../../core/schemas/feature-spec.ts";
import { cdmToFeatureSpec } from "../../core/fhir/cdm.ts";
import { readCdm } from "../../gpu-runner/data/fhir-sites.ts";
import { SecureAggregationPolicy } from "../../core/schemas/secure-aggregation.ts";
import { composeStrategy, federationsProblem } from "../compose.ts";
import { boolFlag, choiceFlag, intFlag, ioLogger, parseFlags, processIo, textFlag, UsageError, urlFlag, type CommandIo, type CommandSpec } from "./flags.ts";

const s3Flags = ["s3-endpoint", "bucket", "queue-url"] as const;

export const CoordinatorFlags = z
  .object({
    port: intFlag(0, 65535).default(8787),
    host: textFlag().default("127.0.0.1"),
    "admin-token": textFlag().min(16, "must be at least 16 characters").optional(),
    federation: textFlag().optional(),
    dataset: choiceFlag(["heart-disease", "wdbc"]).optional(),
    cdm: textFlag().optional(),
    rounds: intFlag(1, 100000).optional(),
    sites: intFlag(1, 10000).optional(),
    "s3-endpoint": urlFlag().optional(),
    bucket: textFlag().optional(),
    "queue-url": urlFlag().optional(),
    region: textFlag().optional(),
    "secure-aggregation": boolFlag(),
    verbose: boolFlag(),
  })
  .refine((f) => [f.federation, f.dataset, f.cdm].filter((v) => v !== undefined).length <= 1, "give one of --federation FILE.json, --dataset NAME or --cdm FILE.json")
  .refine((f) => f.federation === undefined || (f.rounds === undefined && f.sites === undefined && !f["secure-aggregation"]), "--rounds, --sites and --secure-aggregation go with --dataset or --cdm; a --federation file sets its own")
  .refine((f) => s3Flags.every((k) => f[k] === undefined) || s3Flags.every((k) => f[k] !== undefined), "--s3-endpoint, --bucket and --queue-url go together")
  .refine((f) => f["s3-endpoint"] !== undefined || f.region === undefined, "--region goes with --s3-endpoint")
  .refine((f) => f["s3-endpoint"] !== undefined || f.federation !== undefined || f.dataset !== undefined || f.cdm !== undefined, "give --federation FILE.json, --dataset NAME or --cdm FILE.json: the embedded store starts empty");
export type CoordinatorFlags = z.infer<typeof CoordinatorFlags>;

export const coordinatorSpec: CommandSpec<typeof CoordinatorFlags> = {
  name: "coordinator",
  summary: "Serves the coordinator over HTTP until SIGINT/SIGTERM, on an embedded S3/SQS server on loopback or on the S3/SQS endpoints given.",
  schema: CoordinatorFlags,
  flags: {
    port: { type: "string", value: "N", help: "port to listen on; 0 picks a free one (default 8787)" },
    host: { type: "string", value: "H", help: "address to bind (default 127.0.0.1)" },
    "admin-token": { type: "string", value: "T", env: "CONSILIUM_ADMIN_TOKEN", secret: true, help: "administrator bearer token, at least 16 characters (default: generated and printed)" },
    federation: { type: "string", value: "FILE.json", help: "create the federation from this FederationConfig" },
    dataset: { type: "string", value: "NAME", help: "or create it from a shipped dataset's recipe: heart-disease or wdbc" },
    cdm: { type: "string", value: "FILE.json", help: "or create it for FHIR sites from this common data model (its features and label; consilium synth writes one), with the default recipe" },
    rounds: { type: "string", value: "N", help: "with --dataset or --cdm: federated rounds (default: the recipe's)" },
    sites: { type: "string", value: "N", help: "with --dataset or --cdm: sites expected before training starts (default 4)" },
    "secure-aggregation": { type: "boolean", help: "with --dataset or --cdm: secure aggregation (SecAgg+), the coordinator sees only the sum of the sites' masked updates (FedAvg when the recipe's strategy needs each update)" },
    "s3-endpoint": { type: "string", value: "URL", help: "keep state in this S3-compatible endpoint instead of the embedded store (with --bucket, --queue-url)" },
    bucket: { type: "string", value: "B", help: "bucket for the coordinator's state" },
    "queue-url": { type: "string", value: "URL", help: "SQS queue for aggregate jobs; its origin is the SQS endpoint" },
    region: { type: "string", value: "R", help: "AWS region of the endpoints (default: the AWS SDK's, e.g. AWS_REGION)" },
    verbose: { type: "boolean", help: "print the coordinator's info lines" },
  },
};

export interface CoordinatorCommandOptions {
  /** Aborting it shuts the coordinator down; the CLI wires it to SIGINT/SIGTERM. */
  readonly signal?: AbortSignal;
  readonly io?: CommandIo;
  /** How long sites are told to wait between polls (default 1000 ms). */
  readonly pollMs?: number;
  /** How often round deadlines are checked (default 1000 ms). */
  readonly cronMs?: number;
}

/** A running coordinator. `closed` settles once it has shut down. */
export interface CoordinatorHandle {
  readonly url: string;
  readonly adminToken: string;
  readonly federation: string;
  /** False when the store already held a federation, which is then served as it is. */
  readonly created: boolean;
  readonly closed: Promise<void>;
  stop(): Promise<void>;
}

interface Backing {
  readonly store: ObjectStore;
  readonly queue: JobQueue;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly describe: string;
  stop(): Promise<void>;
}

async function s3Backing(endpoint: string, bucket: string, queueUrl: string, region: string | undefined): Promise<Backing> {
  // Credentials come from the SDK's usual chain; an AWS queue URL's origin is its regional SQS endpoint.
  const s3 = new S3Client({ endpoint, region, forcePathStyle: true });
  const sqs = new SQSClient({ endpoint: new URL(queueUrl).origin, region });
  const stop = async () => void (s3.destroy(), sqs.destroy());
  if (!(await s3.config.region().catch(() => ""))) {
    await stop();
    throw new UsageError("--region: required (no region in AWS_REGION or the AWS config)");
  }
  const store = new S3ObjectStore({ client: s3, bucket });
  return { store, queue: new SqsJobQueue({ client: sqs, queueUrl }), sqs, queueUrl, describe: `s3 ${endpoint} bucket ${bucket}`, stop };
}

async function embeddedBacking(): Promise<Backing> {
  const stack = await startEmbeddedStack();
  return { store: stack.store, queue: stack.queue, sqs: stack.sqs, queueUrl: stack.queueUrl, describe: `embedded store ${stack.endpoint}`, stop: stack.stop };
}

/**
 * Binds and releases the address first: startCoordinator does not report a failed listen (the
 * server's 'error' event goes unhandled), so this turns the usual causes into a usage error.
 */
async function checkAddress(host: string, port: number): Promise<void> {
  const server = createServer();
  const code = await new Promise<string | null>((resolve) => {
    server.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "ERROR"));
    server.listen(port, host, () => server.close(() => resolve(null)));
  });
  if (code === "EADDRINUSE") throw new UsageError(`--port: ${host}:${port} is already in use`);
  if (code === "EACCES") throw new UsageError(`--port: not allowed to listen on ${host}:${port}`);
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new UsageError(`--host: ${host} is not an address of this machine`);
  if (code) throw new UsageError(`--host: cannot listen on ${host}:${port} (${code})`);
}

/** A FederationConfig file, parsed; its faults name the flag. */
export async function federationFromFile(file: string): Promise<FederationConfig> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new UsageError(`--federation: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = FederationConfig.safeParse(value);
  if (parsed.success) {
    const problem = federationProblem(parsed.data);
    if (problem) throw new UsageError(`--federation: ${file}: ${problem}`);
    return parsed.data;
  }
  const issue = parsed.error.issues[0];
  throw new UsageError(`--federation: ${file}: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
}

/** What the flags set of a federation made from a recipe. */
interface FederationFlags {
  readonly rounds?: number;
  readonly sites?: number;
  readonly secure?: boolean;
}

/**
 * A federation of `features` trained by `recipe`, with the flags' rounds, sites and secure
 * aggregation; the recipe's strategy gives way to FedAvg where it cannot run with them (`note`).
 */
function federationOf(id: string, features: FeatureSpec, recipe: Recipe, o: FederationFlags): Composed {
  const build = (strategy: string) =>
    FederationConfig.parse({
      id,
      features,
      model: parseModelSpec(recipe.model),
      training: recipe.training,
      rounds: o.rounds ?? recipe.rounds,
      expectedSites: o.sites ?? 4,
      roundDeadlineSeconds: 600,
      strategy,
      codec: "float32",
      ...(o.secure && { secureAggregation: SecureAggregationPolicy.parse({}) }),
      seed: 1,
    } satisfies z.input<typeof FederationConfig>);
  const { strategy, note } = composeStrategy(recipe.strategy, false, (s) => federationsProblem([build(s)]));
  return { config: build(strategy), ...(note !== undefined && { note }) };
}

/** A federation made from flags, and what the command says about how it was made. */
interface Composed {
  readonly config: FederationConfig;
  readonly note?: string;
}

/** The federation a shipped dataset's recipe describes; only its feature spec is taken from the data. */
export async function federationFromDataset(dataset: string, o: FederationFlags): Promise<Composed> {
  const { features } = await loadBuiltin(dataset, { sites: 1, split: "iid", testFraction: 0.3, seed: 1 });
  return federationOf(dataset, features, defaultRecipe, o);
}

/** The federation for FHIR sites that map onto the common data model in `file`, with the default recipe. */
export async function federationFromCdm(file: string, o: FederationFlags): Promise<Composed> {
  const cdm = await readCdm(file).catch((err: unknown) => {
    throw new UsageError(`--cdm: ${(err as Error).message}`);
  });
  // A data model's name is free text; a federation id is a slug.
  const id = (cdm.name ?? "fhir").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+/, "").slice(0, 63).replace(/-+$/, "") || "fhir";
  return federationOf(id, cdmToFeatureSpec(cdm), defaultRecipe, o);
}

/** Creates the federation unless the store holds one; answers the id served and whether it was created. */
async function ensureFederation(deps: CoordinatorDeps, config: FederationConfig | null): Promise<{ id: string; created: boolean }> {
  // Read first: some S3-compatible servers (fauxqs) ignore If-None-Match, which alone guards createFederation.
  const existing = await readJson(deps.store, keys.federation, FederationConfig);
  if (existing) return { id: existing.id, created: false };
  if (!config) throw new UsageError("give --federation FILE.json, --dataset NAME or --cdm FILE.json: the store holds no federation yet");
  try {
    await createFederation(deps, config);
    return { id: config.id, created: true };
  } catch (err) {
    if (!(err instanceof ConsiliumError && err.code === "FEDERATION_EXISTS")) throw err;
    const winner = await readJson(deps.store, keys.federation, FederationConfig);
    return { id: winner?.id ?? config.id, created: false };
  }
}

/**
 * Starts the coordinator and answers once it listens; it runs until `signal` aborts or `stop()`.
 * @example
 * const c = await coordinatorCommand(["--dataset", "heart-disease", "--port", "0"], { signal });
 * await c.closed;
 */
export async function coordinatorCommand(argv: readonly string[], options: CoordinatorCommandOptions = {}): Promise<CoordinatorHandle> {
  const io = options.io ?? processIo;
  const flags = parseFlags(coordinatorSpec, argv, io.env);
  const composed = flags.federation
    ? { config: await federationFromFile(flags.federation) }
    : flags.dataset
      ? await federationFromDataset(flags.dataset, { rounds: flags.rounds, sites: flags.sites, secure: flags["secure-aggregation"] })
      : flags.cdm
        ? await federationFromCdm(flags.cdm, { rounds: flags.rounds, sites: flags.sites, secure: flags["secure-aggregation"] })
        : null;
  const config = composed?.config ?? null;
  if (composed?.note) io.err(composed.note);
  const logger = ioLogger(io, flags.verbose);
  const generated = flags["admin-token"] === undefined;
  const adminToken = flags["admin-token"] ?? randomBytes(24).toString("base64url");
  const [endpoint, bucket, queueUrl] = [flags["s3-endpoint"], flags.bucket, flags["queue-url"]];
  await checkAddress(flags.host, flags.port);
  const backing = endpoint && bucket && queueUrl ? await s3Backing(endpoint, bucket, queueUrl, flags.region) : await embeddedBacking();
  let server: CoordinatorServer;
  let federation: { id: string; created: boolean };
  try {
    const deps: CoordinatorDeps = { store: withWriteOnceCache(backing.store), queue: backing.queue, clock: systemClock, logger, adminToken, pollMs: options.pollMs };
    federation = await ensureFederation(deps, config);
    server = await startCoordinator({ deps, sqs: backing.sqs, queueUrl: backing.queueUrl, port: flags.port, host: flags.host, cronMs: options.cronMs });
  } catch (err) {
    await backing.stop();
    throw err;
  }
  io.err(`coordinator listening on ${server.url} (federation ${federation.id} ${federation.created ? "created" : "already in the store"}; ${backing.describe})`);
  if (generated) io.err(`admin token ${adminToken}`);
  if (!endpoint && !/^(127\.|localhost$|::1$)/.test(flags.host)) {
    logger.warn("the embedded store listens on loopback only: sites on other machines cannot fetch models; use --s3-endpoint");
  }
  let requested = (): void => undefined;
  const closed = new Promise<void>((resolve) => void (requested = resolve)).then(() => stopping);
  void closed.catch(() => undefined); // a failed shutdown rejects `closed` for whoever awaits it, and is no unhandled rejection
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    requested();
    return (stopping ??= server.stop().finally(() => backing.stop()));
  };
  if (options.signal?.aborted) void stop().catch(() => undefined);
  options.signal?.addEventListener("abort", () => void stop().catch(() => undefined), { once: true });
  return { url: server.url, adminToken, federation: federation.id, created: federation.created, closed, stop };
}
