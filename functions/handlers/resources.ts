/**
 * @module
 * The only place the coordinator reads its environment. The state bucket, the audit bucket and the
 * jobs queue arrive as `SST_RESOURCE_State` / `SST_RESOURCE_Audit` / `SST_RESOURCE_Jobs` JSON
 * variables that `infra/access.ts` sets; the secrets SST links (`AdminToken`, `AuditKey`,
 * `UpstreamToken`) arrive, deployed, in the encrypted file SST bundles with the function
 * (`SST_KEY_FILE`, AES-256-GCM under `SST_KEY`, as SST's own `Resource` reads it), and under
 * `sst dev` or in tests as `SST_RESOURCE_<Name>` variables. Both are parsed here like any other
 * outside input.
 */
import { createDecipheriv } from "node:crypto";
import { readFileSync } from "node:fs";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { z } from "zod";
import { S3ObjectStore } from "../adapters/s3-object-store.ts";
import { SqsJobQueue } from "../adapters/sqs-job-queue.ts";
import { withAuditStore } from "../adapters/audit-routed-store.ts";
import { withWriteOnceCache } from "../adapters/write-once-cache.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { systemClock, type Logger } from "../ports.ts";
import { auditSigningKey } from "../../core/audit/trail.ts";

const json = <T extends z.ZodType>(schema: T) =>
  z.string().transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "not JSON" });
      return z.NEVER;
    }
  }).pipe(schema);

const Env = z.object({
  SST_RESOURCE_State: json(z.object({ name: z.string().min(1) })),
  SST_RESOURCE_Jobs: json(z.object({ url: z.string().url() })),
  /** The audit bucket (Object Lock): the trail's records and checkpoints go there (`adapters/audit-routed-store.ts`); absent, to the state bucket. */
  SST_RESOURCE_Audit: json(z.object({ name: z.string().min(1) })).optional(),
  SST_RESOURCE_AdminToken: json(z.object({ value: z.string().min(16, "admin token must be at least 16 characters") })).optional(),
  SST_RESOURCE_AuditKey: json(z.object({ value: z.string().min(1) })).optional(),
  /** How long sites are told to wait before asking again (default 1 s): fewer requests per round against a quicker start of the next step. */
  CONSILIUM_POLL_MS: z.coerce.number().int().min(50).max(60_000).optional(),
});

/** Structured JSON lines, which CloudWatch indexes. */
export const jsonLogger: Logger = {
  info: (message, fields) => console.log(JSON.stringify({ level: "info", message, ...fields })),
  warn: (message, fields) => console.warn(JSON.stringify({ level: "warn", message, ...fields })),
  error: (message, fields) => console.error(JSON.stringify({ level: "error", message, ...fields })),
};

/**
 * The environment with the linked resources of SST's encrypted file added as `SST_RESOURCE_<Name>`
 * variables (a variable already set wins). The file is read with the key SST gives the function;
 * one that cannot be read or decrypted is an error that says so, never a silent absence.
 */
export function withLinkedResources(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!env.SST_KEY_FILE || !env.SST_KEY) return env;
  let linked: Record<string, unknown>;
  try {
    const key = Buffer.from(env.SST_KEY, "base64");
    const data = readFileSync(env.SST_KEY_FILE);
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.alloc(12, 0));
    decipher.setAuthTag(data.subarray(-16));
    linked = z.record(z.string(), z.unknown()).parse(JSON.parse(Buffer.concat([decipher.update(data.subarray(0, -16)), decipher.final()]).toString("utf8")));
  } catch (err) {
    throw new Error(`the linked resources in ${env.SST_KEY_FILE} (SST_KEY_FILE) cannot be read with SST_KEY: ${err instanceof Error ? err.message : String(err)}`);
  }
  const asVariables = Object.fromEntries(Object.entries(linked).map(([name, value]) => [`SST_RESOURCE_${name}`, JSON.stringify(value)]));
  return { ...asVariables, ...env };
}

export function depsFromEnv(env: NodeJS.ProcessEnv = process.env): CoordinatorDeps {
  const parsed = Env.safeParse(withLinkedResources(env));
  if (!parsed.success) {
    throw new Error(`coordinator environment is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const e = parsed.data;
  const client = new S3Client({});
  const state = new S3ObjectStore({ client, bucket: e.SST_RESOURCE_State.name });
  return {
    // Write-once objects (models, accepted updates…) stay cached across warm invocations.
    store: withWriteOnceCache(e.SST_RESOURCE_Audit ? withAuditStore(state, new S3ObjectStore({ client, bucket: e.SST_RESOURCE_Audit.name })) : state),
    queue: new SqsJobQueue({ client: new SQSClient({}), queueUrl: e.SST_RESOURCE_Jobs.url }),
    clock: systemClock,
    logger: jsonLogger,
    // Functions without the secret linked (the aggregator) never check admin tokens.
    adminToken: e.SST_RESOURCE_AdminToken?.value ?? "",
    ...(e.CONSILIUM_POLL_MS !== undefined && { pollMs: e.CONSILIUM_POLL_MS }),
    // Checks the seed here, at the container's start: a bad one fails loudly instead of leaving checkpoints unsigned.
    ...(e.SST_RESOURCE_AuditKey && { auditKey: auditSigningKey(e.SST_RESOURCE_AuditKey.value) }),
  };
}

const RelayEnv = z.object({
  CONSILIUM_REGION: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "region must be lower-case letters, digits and dashes"),
  CONSILIUM_UPSTREAM_URL: z.string().url(),
  SST_RESOURCE_UpstreamToken: json(z.object({ value: z.string().min(1) })),
});

/** A regional stage's relay settings: its region, the global coordinator's URL and the region's site credential there. */
export function relayFromEnv(env: NodeJS.ProcessEnv = process.env): { region: string; upstreamUrl: string; token: string } {
  const parsed = RelayEnv.safeParse(withLinkedResources(env));
  if (!parsed.success) throw new Error(`relay environment is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return { region: parsed.data.CONSILIUM_REGION, upstreamUrl: parsed.data.CONSILIUM_UPSTREAM_URL, token: parsed.data.SST_RESOURCE_UpstreamToken.value };
}

let cached: CoordinatorDeps | null = null;
/** Built on first use and kept for the life of the Lambda container. */
export const lambdaDeps = (): CoordinatorDeps => (cached ??= depsFromEnv());
