/**
 * The deployed code, proven without AWS: every coordinator function bundled as SST bundles it
 * (`scripts/build-lambda.ts`), run in the Lambda harness (test/support/lambda/) under the memory,
 * timeouts, secrets and queue settings of `infra/functions.ts`, and a whole federation of ordinary
 * site runners through it: the API as a Function URL, aggregate jobs through the SQS event source
 * mapping, the cron as scheduled events, against the embedded S3/SQS store. For the same seed it
 * publishes the same model bytes as the in-process coordinator, on four aggregation paths, without
 * breaking any of Lambda's limits or making a call its deployed IAM policy refuses (each
 * function's S3 and SQS traffic, presigned URLs included, goes through a proxy that evaluates
 * `infra/policy.ts`); its audit trail, kept in the audit bucket, verifies live through the
 * Function URL with checkpoints signed by the `AuditKey` secret read from SST's encrypted
 * resource file.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SendMessageCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { simulateOnce, type SimulationPlan } from "../cli/simulate.ts";
import { auditCommand } from "../cli/commands/audit-command.ts";
import { memoryIo } from "../cli/commands/flags.ts";
import { auditSigningKey } from "../core/audit/trail.ts";
import { silentLogger } from "../core/logger.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { FUNCTIONS, JOBS, type FunctionName } from "../infra/functions.ts";
import { buildLambdas, type BuiltFunction } from "../scripts/build-lambda.ts";
import { smallPlan } from "./fixtures/synthetic-sites.ts";
import { bytesPlan, modelDigests } from "./support/model-bytes.ts";
import { SecureAggregationPolicy } from "../core/schemas/secure-aggregation.ts";
import type { RunReport } from "../core/schemas/report.ts";
import { startLambdaDeployment, type LambdaDeployment } from "./support/lambda/deployment.ts";
import { CONTENT_SECURITY_POLICY } from "../functions/dashboard/routes.tsx";

const base = bytesPlan;

const plans: Record<string, SimulationPlan> = {
  "fedavg float32 (streamed)": base,
  "fedavg int8, int8 down-link (streamed kernel)": { ...base, codec: "int8", downlinkCodec: "int8" },
  "scaffold (control variates)": { ...base, strategy: "scaffold" },
  "robust with scoring (decoded)": { ...base, strategy: "robust", scoring: { enabled: true } },
};

const QUEUE_PLAN = "fedavg float32 (streamed)";

/**
 * After the federation: a malformed job and a well-formed one (round 1 again: done, so nothing to
 * do) sent together; answers what reached the dead-letter queue and the trigger's counts since.
 */
async function badJobBeside(d: LambdaDeployment, before: LambdaDeployment["jobs"]): Promise<{ dead: string[]; after: LambdaDeployment["jobs"] }> {
  await d.stack.sqs.send(new SendMessageCommand({ QueueUrl: d.stack.queueUrl, MessageBody: "not a job" }));
  await d.stack.sqs.send(new SendMessageCommand({ QueueUrl: d.stack.queueUrl, MessageBody: JSON.stringify({ kind: "aggregate", federation: "simulation", round: 1, run: 1 }) }));
  const deadline = Date.now() + 30_000;
  let dead: string[] = [];
  while (Date.now() < deadline && dead.length === 0) {
    const r = await d.stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: d.stack.deadLetterQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    dead = (r.Messages ?? []).map((m) => m.Body ?? "");
  }
  const now = d.jobs;
  return { dead, after: { batches: now.batches - before.batches, records: now.records - before.records, deleted: now.deleted - before.deleted, failed: now.failed - before.failed, redelivered: now.redelivered - before.redelivered, deleteFailures: now.deleteFailures - before.deleteFailures } };
}

/** Secure aggregation takes other paths (phases, masked inputs, unmasking): its bytes depend on node:crypto, so it is checked for completion, not bytes. */
const securePlan: SimulationPlan = { ...smallPlan(6, 5, 2), model: "mlp:16", secureAggregation: SecureAggregationPolicy.parse({ phaseSeconds: 2 }) };


describe("a federation through the bundled Lambda handlers", () => {
  let buildDir: string;
  let built: Record<FunctionName, BuiltFunction>;
  const inProcess: Record<string, Record<string, string>> = {};
  const lambda: Record<string, Record<string, string>> = {};
  const deployments: Record<string, LambdaDeployment> = {};
  const audit: Record<string, { lines: string[]; ok: boolean }> = {};
  const auditBucket: Record<string, string[]> = {};
  let dead: string[] = [];
  let dashboard: { signIn: number; overview: number; csp: string | null; html: string; asset: number; assetBytes: number } | undefined;
  let secureReport: RunReport | undefined;
  let secureDeployment: LambdaDeployment | undefined;
  let queueAfter: LambdaDeployment["jobs"] | undefined;

  beforeAll(async () => {
    await selectBackend("cpu");
    buildDir = await mkdtemp(join(tmpdir(), "consilium-lambda-"));
    built = await buildLambdas(buildDir);
    for (const [name, plan] of Object.entries(plans)) {
      await simulateOnce(plan, 1, { logger: silentLogger, onStack: async (store) => void (inProcess[name] = await modelDigests(store)) });
      await simulateOnce(plan, 1, {
        logger: silentLogger,
        // One deployment takes two jobs per invocation (infra: one), to show its partial batch responses.
        deploy: async () => (deployments[name] = await startLambdaDeployment({ built, ...(name === QUEUE_PLAN && { batchSize: 2, visibilityTimeoutSeconds: 2 }) })),
        onStack: async (store) => {
          lambda[name] = await modelDigests(store);
          // `consilium audit verify` live against the Function URL, held to the key the functions were given as a secret.
          const d = deployments[name]!;
          const io = memoryIo({ CONSILIUM_ADMIN_TOKEN: d.adminToken });
          const verdict = await auditCommand(["verify", "--coordinator", d.url, "--public-key", auditSigningKey(d.auditSeedHex).publicKey], { io }).then(() => true, () => false);
          audit[name] = { lines: io.outLines, ok: verdict };
          auditBucket[name] = await d.auditStore.list("");
          if (name === QUEUE_PLAN) {
            // The dashboard through the Function URL: sign in, the overview with its chart's data, the assets.
            const signIn = await fetch(`${d.url}/dashboard/sign-in`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token: d.adminToken }) });
            const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0]!;
            const overview = await fetch(`${d.url}/dashboard`, { headers: { cookie } });
            const asset = await fetch(`${d.url}/dashboard/assets/uplot.js`);
            dashboard = { signIn: signIn.status, overview: overview.status, csp: overview.headers.get("content-security-policy"), html: await overview.text(), asset: asset.status, assetBytes: (await asset.arrayBuffer()).byteLength };
            const before = { ...d.jobs };
            ({ dead, after: queueAfter } = await badJobBeside(d, before));
          }
        },
      });
    }
    secureReport = await simulateOnce(securePlan, 1, { logger: silentLogger, deploy: async () => (secureDeployment = await startLambdaDeployment({ built })) });
  }, 400_000);
  afterAll(() => rm(buildDir, { recursive: true, force: true }));

  it("bundles every function of infra/functions.ts as one self-contained ESM file", async () => {
    expect(Object.keys(built).sort()).toEqual(Object.keys(FUNCTIONS).sort());
    for (const f of Object.values(built)) {
      expect(f.file).toMatch(/^functions\/handlers\/[a-z-]+\.mjs$/);
      const text = await readFile(join(f.dir, f.file), "utf8");
      // SST's banner, and no import left of the project's own sources or of an npm package but node's own modules.
      expect(text.startsWith("import { createRequire as topLevelCreateRequire } from 'module';")).toBe(true);
      const imports = [...text.matchAll(/\bfrom\s*"([^"]+)"/g)].map((m) => m[1]!);
      expect(imports.filter((i) => !i.startsWith("node:") && !["module", "url", "crypto", "fs", "path", "os", "stream", "http", "https", "zlib", "util", "events", "buffer", "child_process", "net", "tls", "process", "worker_threads", "fs/promises", "stream/web", "async_hooks", "perf_hooks", "timers", "timers/promises", "dns", "string_decoder", "http2", "querystring"].includes(i))).toEqual([]);
    }
  });

  it("publishes the same model bytes as the in-process coordinator for the same seed, on every path", () => {
    for (const name of Object.keys(plans)) {
      expect(Object.keys(lambda[name] ?? {}).length, name).toBeGreaterThanOrEqual(4);
      expect(lambda[name], name).toEqual(inProcess[name]);
    }
  });

  it("breaks none of Lambda's limits, and every trigger ran the function it serves", () => {
    for (const [name, d] of Object.entries(deployments)) {
      expect(d.harness.violations, name).toEqual([]);
      const stats = Object.fromEntries(d.harness.stats);
      for (const fn of ["Api", "Aggregate", "CloseRounds"]) {
        expect(stats[fn]!.invocations, `${name} ${fn}`).toBeGreaterThan(0);
        expect(stats[fn]!.errors, `${name} ${fn}`).toBe(0);
        expect(stats[fn]!.coldStartsMs.length, `${name} ${fn}`).toBeGreaterThan(0);
        expect(stats[fn]!.peakRssMb, `${name} ${fn}`).toBeLessThan(FUNCTIONS[fn as FunctionName].memoryMb);
      }
      // One aggregate job per round (and the queue test's), each settled by the partial batch response.
      expect(d.jobs.records, name).toBeGreaterThanOrEqual(base.rounds);
      if (name !== QUEUE_PLAN) {
        expect(d.jobs.deleted, name).toBe(d.jobs.records);
        expect(d.jobs.failed, name).toBe(0);
      }
    }
  });

  it("reports a bad job as a batch item failure: the good job beside it is deleted, the bad one redelivered and, after its receives, dead-lettered", () => {
    expect(dead).toEqual(["not a job"]);
    expect(queueAfter?.failed).toBe(JOBS.maxReceives);
    expect(queueAfter?.redelivered).toBe(JOBS.maxReceives - 1);
    expect(queueAfter?.deleted).toBe(1);
    expect(queueAfter?.records).toBe(JOBS.maxReceives + 1);
  });

  it("holds every function's S3 and SQS calls, and the URLs it presigned, to its deployed policy (infra/policy.ts), refusing none", () => {
    for (const [name, d] of Object.entries(deployments)) {
      // Each proxy saw the function's traffic (a proxy bypassed would see none).
      for (const fn of ["Api", "Aggregate", "CloseRounds"]) {
        expect(d.iam[fn]!.allowed.get("s3:GetObject") ?? 0, `${name} ${fn}`).toBeGreaterThan(0);
        expect(d.iam[fn]!.allowed.get("s3:ListBucket") ?? 0, `${name} ${fn}`).toBeGreaterThan(0);
      }
      expect(d.iam.Api!.allowed.get("s3:PutObject") ?? 0, name).toBeGreaterThan(0);
      expect(d.iam.Aggregate!.allowed.get("s3:PutObject") ?? 0, name).toBeGreaterThan(0);
      expect(d.harness.violations.filter((v) => v.includes("not allowed by its policy")), name).toEqual([]);
    }
  });

  it("serves the dashboard through the Function URL: sign-in, the overview under its policy, the chart library", () => {
    expect(dashboard).toMatchObject({ signIn: 303, overview: 200, csp: CONTENT_SECURITY_POLICY, asset: 200 });
    expect(dashboard?.html).toContain("Pooled AUROC of the global model");
    expect(dashboard?.assetBytes).toBeGreaterThan(40_000);
  });

  it("runs a federation under secure aggregation through the bundles, every round closed by unmasking, within the limits and the policies", () => {
    expect(secureReport?.rounds.map((r) => [r.round, r.status, r.sites])).toEqual([[1, "closed", 6], [2, "closed", 6]]);
    expect(secureDeployment?.harness.violations).toEqual([]);
  });

  it("keeps a trail that verifies live through the Function URL, in the audit bucket, under checkpoints signed with the AuditKey secret", () => {
    for (const name of Object.keys(plans)) {
      expect(auditBucket[name]?.some((k) => k.startsWith("audit/trail/")), name).toBe(true);
      expect(auditBucket[name]?.some((k) => k.startsWith("audit/checkpoints/")), name).toBe(true);
      expect(auditBucket[name]?.every((k) => k.startsWith("audit/trail/") || k.startsWith("audit/checkpoints/")), name).toBe(true);
      expect(audit[name]?.ok, `${name}: ${audit[name]?.lines.join(" ")}`).toBe(true);
      expect(audit[name]?.lines[0], name).toMatch(/^audit trail intact: \d+ records, head [0-9a-f]{16}…; signed checkpoint at \d+/);
    }
  });
});
