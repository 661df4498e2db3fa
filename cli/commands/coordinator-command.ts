/**
 * @module
 * `consilium coordinator`: the coordinator as one long-running process until SIGINT/SIGTERM, its
 * state in an embedded S3/SQS store kept on disk in a data folder (served on the coordinator's own
 * address under `/store`, so sites on other machines reach it too) or on the S3/SQS endpoints given.
 * Started again on the same data folder it carries on the same federation.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { ConsiliumError } from "../../core/errors.ts";
import { FederationConfig } from "../../core/schemas/federation.ts";
import { withWriteOnceCache } from "../../functions/adapters/write-once-cache.ts";
import type { CoordinatorDeps } from "../../functions/deps.ts";
import { keys } from "../../functions/keys.ts";
import { systemClock } from "../../functions/ports.ts";
import { readJson } from "../../functions/repo.ts";
import { createFederation } from "../../functions/use-cases/create-federation.ts";
import { readConsortium } from "../../functions/use-cases/runs/advance-runs.ts";
import { embeddedBacking, s3Backing, type Backing } from "../coordinator-backing.ts";
import { startCoordinator, type CoordinatorServer } from "../coordinator-server.ts";
import { listenOn } from "./listen-on.ts";
import { federationFromSource } from "./federation-source.ts";
import { boolFlag, choiceFlag, intFlag, ioLogger, parseFlags, processIo, textFlag, UsageError, urlFlag, type CommandIo, type CommandSpec } from "./flags.ts";
import { auditSigningKey } from "../../core/audit/trail.ts";

export { federationFromCdm, federationFromDataset, federationFromFile } from "./federation-source.ts";

const s3Flags = ["s3-endpoint", "bucket", "queue-url"] as const;
/** Where the embedded store keeps the federation when no --data-dir is given, under the working folder. */
export const DEFAULT_DATA_DIR = join(".consilium", "coordinator");
const WILDCARD = /^(0\.0\.0\.0|::)$/;

const OriginFlag = urlFlag().refine((u) => new URL(u).pathname === "/" && !/[?#]/.test(u), "give an origin such as https://coordinator.example.org:8787, with no path");

export const CoordinatorFlags = z
  .object({
    port: intFlag(0, 65535).default(8787),
    host: textFlag().default("127.0.0.1"),
    "admin-token": textFlag().min(16, "must be at least 16 characters").optional(),
    "data-dir": textFlag().optional(),
    "public-url": OriginFlag.optional(),
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
    "audit-key": textFlag().optional(),
    verbose: boolFlag(),
  })
  .refine((f) => [f.federation, f.dataset, f.cdm].filter((v) => v !== undefined).length <= 1, "give one of --federation FILE.json, --dataset NAME or --cdm FILE.json")
  .refine((f) => f.federation === undefined || (f.rounds === undefined && f.sites === undefined && !f["secure-aggregation"]), "--rounds, --sites and --secure-aggregation go with --dataset or --cdm; a --federation file sets its own")
  .refine((f) => s3Flags.every((k) => f[k] === undefined) || s3Flags.every((k) => f[k] !== undefined), "--s3-endpoint, --bucket and --queue-url go together")
  .refine((f) => f["s3-endpoint"] !== undefined || f.region === undefined, "--region goes with --s3-endpoint")
  .refine((f) => f["s3-endpoint"] === undefined || (f["data-dir"] === undefined && f["public-url"] === undefined), "--data-dir and --public-url go with the embedded store; with --s3-endpoint the state and the sites' downloads are that store's")
  .refine((f) => f["s3-endpoint"] === undefined || f["admin-token"] !== undefined, { path: ["admin-token"], message: "required with --s3-endpoint: no data folder keeps a generated one" })
  .refine((f) => f["s3-endpoint"] !== undefined || f["public-url"] !== undefined || !WILDCARD.test(f.host), {
    path: ["public-url"], message: "required with a wildcard --host: the origin sites reach this machine at, e.g. http://192.0.2.10:8787; presigned URLs name it",
  });
export type CoordinatorFlags = z.infer<typeof CoordinatorFlags>;

export const coordinatorSpec: CommandSpec<typeof CoordinatorFlags> = {
  name: "coordinator",
  summary: "Serves the coordinator over HTTP until SIGINT/SIGTERM, its state kept on disk in --data-dir (an embedded S3/SQS store that sites reach on the coordinator's address) or on the S3/SQS endpoints given.",
  schema: CoordinatorFlags,
  flags: {
    port: { type: "string", value: "N", help: "port to listen on; 0 picks a free one (default 8787)" },
    "audit-key": { type: "string", value: "SEED", env: "CONSILIUM_AUDIT_KEY", secret: true, help: "the Ed25519 seed (32 bytes, hex or base64) that signs the audit trail's checkpoints; without it the trail is chained but not signed" },
    host: { type: "string", value: "H", help: "address to bind (default 127.0.0.1)" },
    "admin-token": { type: "string", value: "T", env: "CONSILIUM_ADMIN_TOKEN", secret: true, help: "administrator bearer token, at least 16 characters (default: the one kept in the data folder, generated and printed once at the first start)" },
    "data-dir": { type: "string", value: "DIR", help: `where the embedded store keeps the federation (models, updates, sites, credentials, audit) across restarts; owner-only, one coordinator at a time (default ${DEFAULT_DATA_DIR})` },
    "public-url": { type: "string", value: "URL", help: "the origin sites reach this coordinator at, which the models' and updates' presigned URLs name (default http://HOST:PORT; required with --host 0.0.0.0; an https origin behind a TLS proxy)" },
    federation: { type: "string", value: "FILE.json", help: "create the federation from this FederationConfig" },
    dataset: { type: "string", value: "NAME", help: "or create it from a shipped dataset's recipe: heart-disease or wdbc" },
    cdm: { type: "string", value: "FILE.json", help: "or create it for FHIR sites from this common data model (its features and label; consilium synth writes one), with the default recipe" },
    rounds: { type: "string", value: "N", help: "with --dataset or --cdm: federated rounds (default: the recipe's)" },
    sites: { type: "string", value: "N", help: "with --dataset or --cdm: sites expected before training starts (default 4)" },
    "secure-aggregation": { type: "boolean", help: "with --dataset or --cdm: secure aggregation (SecAgg+), the coordinator sees only the sum of the sites' masked updates (FedAvg when the recipe's strategy needs each update)" },
    "s3-endpoint": { type: "string", value: "URL", help: "keep state in this S3-compatible endpoint instead of the embedded store (with --bucket, --queue-url and --admin-token)" },
    bucket: { type: "string", value: "B", help: "bucket for the coordinator's state" },
    "queue-url": { type: "string", value: "URL", help: "SQS queue for aggregate jobs; its origin is the SQS endpoint" },
    region: { type: "string", value: "R", help: "AWS region of the endpoints (default: the AWS SDK's, e.g. AWS_REGION)" },
    verbose: { type: "boolean", help: "print the coordinator's info lines (one per store request too)" },
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


/** The consortium's agreement, or the one federation of a store from before runs. */
async function storedAgreement(deps: CoordinatorDeps): Promise<FederationConfig | null> {
  return (await readConsortium(deps)) ?? (await readJson(deps.store, keys.federation, FederationConfig));
}

/** Creates the federation unless the store holds one; answers the one served, whether it was created, and whether the flags asked for another. */
async function ensureFederation(deps: CoordinatorDeps, config: FederationConfig | null): Promise<{ id: string; created: boolean; differs: boolean }> {
  // Read first: some S3-compatible servers ignore If-None-Match, which alone guards createFederation.
  const existing = await storedAgreement(deps);
  const differs = (stored: FederationConfig | null) => config !== null && JSON.stringify(stored) !== JSON.stringify(config);
  if (existing) return { id: existing.id, created: false, differs: differs(existing) };
  if (!config) throw new UsageError("give --federation FILE.json, --dataset NAME or --cdm FILE.json: the store holds no federation yet");
  try {
    await createFederation(deps, config);
    return { id: config.id, created: true, differs: false };
  } catch (err) {
    if (!(err instanceof ConsiliumError && err.code === "FEDERATION_EXISTS")) throw err;
    const winner = await storedAgreement(deps);
    return { id: winner?.id ?? config.id, created: false, differs: differs(winner) };
  }
}

/**
 * Starts the coordinator and answers once it listens; it runs until `signal` aborts or `stop()`.
 * @example
 * const c = await coordinatorCommand(["--dataset", "heart-disease", "--data-dir", "fed", "--port", "0"], { signal });
 * await c.closed;
 */
export async function coordinatorCommand(argv: readonly string[], options: CoordinatorCommandOptions = {}): Promise<CoordinatorHandle> {
  const io = options.io ?? processIo;
  const flags = parseFlags(coordinatorSpec, argv, io.env, (line) => io.err(line));
  const federationFlags = { rounds: flags.rounds, sites: flags.sites, secure: flags["secure-aggregation"] };
  const composed = await federationFromSource({ file: flags.federation, dataset: flags.dataset, cdm: flags.cdm }, federationFlags);
  const config = composed?.config ?? null;
  if (composed?.note) io.err(composed.note);
  const logger = ioLogger(io, flags.verbose);
  const [endpoint, bucket, queueUrl] = [flags["s3-endpoint"], flags.bucket, flags["queue-url"]];
  const dataDir = resolve(flags["data-dir"] ?? DEFAULT_DATA_DIR);
  if (!endpoint && !config && !existsSync(join(dataDir, "store"))) {
    throw new UsageError(`give --federation FILE.json, --dataset NAME or --cdm FILE.json: ${dataDir} holds no federation yet`);
  }
  let auditKey: CoordinatorDeps["auditKey"];
  try {
    auditKey = flags["audit-key"] === undefined ? undefined : auditSigningKey(flags["audit-key"]);
  } catch (err) {
    throw new UsageError(`--audit-key: ${(err as Error).message}`);
  }
  const listener = await listenOn(flags.host, flags.port);
  let backing: Backing | undefined;
  let server: CoordinatorServer;
  let federation: Awaited<ReturnType<typeof ensureFederation>>;
  const publicUrl = flags["public-url"] ?? listener.url;
  try {
    backing = endpoint && bucket && queueUrl
      ? await s3Backing(endpoint, bucket, queueUrl, flags.region, flags["admin-token"] ?? "")
      : await embeddedBacking({ dataDir, listener, publicUrl, logger, adminToken: flags["admin-token"] });
    const deps: CoordinatorDeps = { store: withWriteOnceCache(backing.store), queue: backing.queue, clock: systemClock, logger, adminToken: backing.adminToken.token, pollMs: options.pollMs, ...(auditKey && { auditKey }) };
    federation = await ensureFederation(deps, config);
    server = await startCoordinator({ deps, sqs: backing.sqs, queueUrl: backing.queueUrl, listener, cronMs: options.cronMs });
  } catch (err) {
    await backing?.stop();
    await listener.close();
    throw err;
  }
  const b = backing;
  const { token, origin, file } = b.adminToken;
  const how = origin === "given" ? "as given" : origin === "kept" ? `in ${file}` : "generated, below";
  const audit = auditKey ? `audit checkpoints signed by key ${auditKey.publicKey}` : "audit checkpoints unsigned: --audit-key signs them";
  io.err(`coordinator listening on ${server.url} (federation ${federation.id} ${federation.created ? "created" : "already in the store"}; ${b.describe}; admin token ${how}; ${audit})`);
  // The one time the generated token is shown: it stays in the owner-only file.
  if (origin === "generated") io.err(`admin token ${token} (kept owner-only in ${file}; not shown again)`);
  io.err(`dashboard: ${new URL("/dashboard", publicUrl).href} (sign in with an operator's credential or the admin token)`);
  for (const warning of b.warnings) logger.warn(warning);
  if (federation.differs) logger.warn("the store holds this federation already and serves it as it is: the federation flags given differ from it and are not applied");
  if (!endpoint && publicUrl.startsWith("http:") && !/^http:\/\/(127\.|localhost[:/]|\[::1\])/.test(publicUrl)) {
    logger.warn("sites reach the store over plain http: put a TLS proxy in front (docs/one-machine.md) and give its https origin as --public-url");
  }
  let requested = (): void => undefined;
  const closed = new Promise<void>((resolve) => void (requested = resolve)).then(() => stopping);
  void closed.catch(() => undefined); // a failed shutdown rejects `closed` for whoever awaits it, and is no unhandled rejection
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    requested();
    return (stopping ??= server.stop().finally(() => b.stop()).finally(() => listener.close()));
  };
  if (options.signal?.aborted) void stop().catch(() => undefined);
  options.signal?.addEventListener("abort", () => void stop().catch(() => undefined), { once: true });
  return { url: server.url, adminToken: b.adminToken.token, federation: federation.id, created: federation.created, closed, stop };
}
