/**
 * @module
 * The only place the coordinator reads its environment: the resources SST links to each function
 * arrive as `SST_RESOURCE_<Name>` JSON variables, parsed here like any other outside input.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { z } from "zod";
import { S3ObjectStore } from "../adapters/s3-object-store.ts";
import { SqsJobQueue } from "../adapters/sqs-job-queue.ts";
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
  SST_RESOURCE_AdminToken: json(z.object({ value: z.string().min(16, "admin token must be at least 16 characters") })).optional(),
  SST_RESOURCE_AuditKey: json(z.object({ value: z.string().min(1) })).optional(),
});

/** Structured JSON lines, which CloudWatch indexes. */
export const jsonLogger: Logger = {
  info: (message, fields) => console.log(JSON.stringify({ level: "info", message, ...fields })),
  warn: (message, fields) => console.warn(JSON.stringify({ level: "warn", message, ...fields })),
  error: (message, fields) => console.error(JSON.stringify({ level: "error", message, ...fields })),
};

export function depsFromEnv(env: NodeJS.ProcessEnv = process.env): CoordinatorDeps {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new Error(`coordinator environment is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const e = parsed.data;
  return {
    // Write-once objects (models, accepted updates…) stay cached across warm invocations.
    store: withWriteOnceCache(new S3ObjectStore({ client: new S3Client({}), bucket: e.SST_RESOURCE_State.name })),
    queue: new SqsJobQueue({ client: new SQSClient({}), queueUrl: e.SST_RESOURCE_Jobs.url }),
    clock: systemClock,
    logger: jsonLogger,
    // Functions without the secret linked (the aggregator) never check admin tokens.
    adminToken: e.SST_RESOURCE_AdminToken?.value ?? "",
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
  const parsed = RelayEnv.safeParse(env);
  if (!parsed.success) throw new Error(`relay environment is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return { region: parsed.data.CONSILIUM_REGION, upstreamUrl: parsed.data.CONSILIUM_UPSTREAM_URL, token: parsed.data.SST_RESOURCE_UpstreamToken.value };
}

let cached: CoordinatorDeps | null = null;
/** Built on first use and kept for the life of the Lambda container. */
export const lambdaDeps = (): CoordinatorDeps => (cached ??= depsFromEnv());
