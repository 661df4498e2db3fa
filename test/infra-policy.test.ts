/**
 * The deployed stack's permissions, checked without deploying: `infra/*` is evaluated with
 * stand-ins for SST's `sst.aws` / `sst` / `aws` namespaces and `$interpolate`, `$jsonStringify`,
 * `$app`, which capture every resource's arguments. Every coordinator function (the public API, the
 * aggregate job, the cron, a region's relay) must get named actions on the state bucket and the
 * jobs queue only — never a linked Bucket or Queue (SST grants `s3:*` / `sqs:*` for those), never
 * an action with `*` — and still receive the variables the handlers read, on Node.js 22. The
 * checker is shown to catch a function given `s3:*` and one linking the bucket.
 */
import { readdir } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AUDIT_NOT_WRITTEN } from "../functions/use-cases/audit/append-audit.ts";
import { FUNCTIONS } from "../infra/functions.ts";
import { AGGREGATE_WRITES, CREDENTIAL_PREFIXES, functionPolicy } from "../infra/policy.ts";

interface Created {
  readonly kind: string;
  readonly name: string;
  readonly args: Record<string, unknown>;
  /** Pulumi's resource options, where the resource was given some. */
  readonly opts?: Record<string, unknown>;
}

class Captured {
  constructor(readonly kind: string, readonly name: string) {}
}

/** A stand-in for a Pulumi output: `apply` runs at once. */
const output = <T>(value: T) => ({ value, apply: <U>(f: (v: T) => U) => f(value) });

/** Installs the stand-ins; answers what infra/* creates. */
function standIns(): Created[] {
  const created: Created[] = [];
  const record = (kind: string, name: string, args: unknown, opts?: unknown) => created.push({ kind, name, args: (args ?? {}) as Record<string, unknown>, ...(opts !== undefined && { opts: opts as Record<string, unknown> }) });
  /** A plain resource of the `aws` namespace: records its arguments and options, has an ARN and a name. */
  const resource = (kind: string) =>
    class extends Captured {
      readonly arn: string;
      constructor(name: string, args?: unknown, opts?: unknown) {
        super(kind, name);
        record(kind, name, args, opts);
        this.arn = `arn:aws:${kind}:${name}`;
      }
    };
  const g = globalThis as Record<string, unknown>;
  g.sst = {
    aws: {
      Bucket: class extends Captured {
        readonly arn: string;
        constructor(name: string, args?: unknown) {
          super("Bucket", name);
          record("Bucket", name, args);
          this.arn = `arn:aws:s3:::${name.toLowerCase()}`;
        }
      },
      Queue: class extends Captured {
        readonly arn: string;
        readonly url: string;
        readonly nodes: { queue: { name: string } };
        constructor(name: string, args?: unknown) {
          super("Queue", name);
          record("Queue", name, args);
          this.arn = `arn:aws:sqs:eu-central-1:000000000000:${name}`;
          this.url = `https://sqs.eu-central-1.amazonaws.com/000000000000/${name}`;
          this.nodes = { queue: { name: `queue-${name}` } };
        }
        subscribe(fn: unknown, options: unknown) {
          record("QueueSubscriber", `${this.name}Subscriber`, { function: fn, options });
          return { nodes: { function: output({ nodes: { function: output({ name: `function-${this.name}Subscriber`, loggingConfig: { logGroup: `/sst/log-group-${this.name}Subscriber` } }) } }) } };
        }
      },
      Function: class extends Captured {
        readonly nodes: { function: ReturnType<typeof output> };
        constructor(name: string, args: unknown) {
          super("Function", name);
          record("Function", name, args);
          // SST names a function's log group itself, not /aws/lambda/<function>.
          this.nodes = { function: output({ name: `function-${name}`, loggingConfig: { logGroup: `/sst/log-group-${name}` } }) };
        }
        get url() {
          return `https://${this.name}.lambda-url.aws`;
        }
      },
      Cron: class extends Captured {
        readonly nodes: { function: ReturnType<typeof output> };
        constructor(name: string, args: unknown) {
          super("Cron", name);
          record("Cron", name, args);
          this.nodes = { function: output({ nodes: { function: output({ name: `function-${name}`, loggingConfig: { logGroup: `/sst/log-group-${name}` } }) } }) };
        }
      },
      SnsTopic: class extends Captured {
        readonly arn: string;
        constructor(name: string, args?: unknown) {
          super("SnsTopic", name);
          record("SnsTopic", name, args);
          this.arn = `arn:aws:sns:eu-central-1:000000000000:${name}`;
        }
      },
    },
    Secret: class extends Captured {
      constructor(name: string) {
        super("Secret", name);
        record("Secret", name, {});
      }
    },
  };
  g.aws = {
    s3: Object.fromEntries(["BucketLifecycleConfigurationV2", "BucketServerSideEncryptionConfigurationV2", "BucketLoggingV2", "BucketObjectLockConfigurationV2"].map((k) => [k, resource(k)])),
    kms: { Key: class extends Captured {
      readonly arn: string;
      constructor(name: string, args: unknown, opts?: unknown) {
        super("KmsKey", name);
        record("KmsKey", name, args, opts);
        this.arn = `arn:aws:kms:eu-central-1:000000000000:key/${name}`;
      }
    } },
    sns: { TopicSubscription: resource("TopicSubscription") },
    cloudwatch: { MetricAlarm: resource("MetricAlarm"), LogMetricFilter: resource("LogMetricFilter") },
  };
  g.$interpolate = (strings: TemplateStringsArray, ...values: unknown[]) => strings.reduce((a, s, i) => a + s + (i < values.length ? String((values[i] as { arn?: string })?.arn ?? values[i]) : ""), "");
  g.$jsonStringify = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (x instanceof Captured ? `<${x.kind} ${x.name}>` : x));
  g.$app = { stage: "eu" };
  return created;
}

/** Evaluates infra/* afresh with the stand-ins (a stand-in's `name` is its component name; SST resolves the real ones at deploy time). */
async function evaluateInfra(relay: boolean): Promise<Created[]> {
  const created = standIns();
  vi.resetModules();
  if (relay) process.env.CONSILIUM_UPSTREAM_URL = "https://global.example.org";
  else delete process.env.CONSILIUM_UPSTREAM_URL;
  // Every file under infra/ (sst.config.ts imports each of them): a new one is held to the same rules.
  const files = (await readdir(new URL("../infra/", import.meta.url))).filter((f) => f.endsWith(".ts")).map((f) => f.slice(0, -3));
  expect(files).toEqual(expect.arrayContaining(["storage", "queue", "secrets", "api", "cron", "relay", "access", "runtime", "functions", "policy", "alarms", "aggregate"]));
  for (const file of files) await import(`../infra/${file}.ts`);
  return created;
}

/** The function arguments of every coordinator function infra/* creates: Functions, Crons' functions and queue subscribers. */
function functionsOf(created: readonly Created[]): { name: string; args: Record<string, unknown> }[] {
  return created.flatMap((c) => {
    if (c.kind === "Function") return [{ name: c.name, args: c.args }];
    if (c.kind === "Cron") return [{ name: c.name, args: c.args.function as Record<string, unknown> }];
    if (c.kind === "QueueSubscriber") return [{ name: c.name, args: c.args.function as Record<string, unknown> }];
    return [];
  });
}

/** What is wrong with a function's permissions: a linked Bucket or Queue (SST grants `*` for them), an action with `*`, a resource that is not the state bucket or the jobs queue. */
function policyProblems(fns: readonly { name: string; args: Record<string, unknown> }[], allowed: readonly string[]): string[] {
  const problems: string[] = [];
  for (const { name, args } of fns) {
    // Managed policies, a role of its own or a transform could grant anything: none is expected.
    for (const key of ["policies", "role", "transform"]) if (args[key] !== undefined) problems.push(`${name} sets ${key}`);
    for (const l of (args.link as unknown[] | undefined) ?? []) if (l instanceof Captured && (l.kind === "Bucket" || l.kind === "Queue")) problems.push(`${name} links the ${l.kind} ${l.name}: SST grants ${l.kind === "Bucket" ? "s3:*" : "sqs:*"} for it`);
    for (const p of (args.permissions as { actions: string[]; resources: string[] }[] | undefined) ?? []) {
      for (const a of p.actions) if (a.includes("*")) problems.push(`${name} is allowed ${a}`);
      for (const r of p.resources) if (!allowed.includes(r)) problems.push(`${name} reaches ${r}`);
    }
  }
  return problems;
}

describe("the deployed stack's permissions", () => {
  const saved = { ...process.env };
  beforeEach(() => vi.resetModules());
  afterEach(() => {
    process.env = { ...saved };
  });

  const bucket = "arn:aws:s3:::state";
  const audit = "arn:aws:s3:::audit";
  const queue = "arn:aws:sqs:eu-central-1:000000000000:Jobs";
  const key = "arn:aws:kms:eu-central-1:000000000000:key/StateKey";
  const allowed = [bucket, `${bucket}/*`, audit, `${audit}/audit/*`, queue, key, ...CREDENTIAL_PREFIXES.map((p) => `${bucket}/${p}*`), ...AGGREGATE_WRITES.map((p) => `${bucket}/${p}`)];

  it("gives every coordinator function infra/policy.ts's named actions on the stack's buckets, queue and key only, the variables its handler reads, and Node.js 22", async () => {
    const created = await evaluateInfra(true);
    const fns = functionsOf(created);
    expect(fns.map((f) => f.name).sort()).toEqual(["Api", "CloseRounds", "JobsSubscriber", "RegionRelay"]);
    expect(policyProblems(fns, allowed)).toEqual([]);
    const infraName = { Api: "Api", CloseRounds: "CloseRounds", JobsSubscriber: "Aggregate", RegionRelay: "RegionRelay" } as const;
    for (const { name, args } of fns) {
      expect(args.runtime, name).toBe("nodejs22.x");
      const fn = infraName[name as keyof typeof infraName];
      // The handler, memory and timeout the Lambda harness runs the bundle with.
      expect([args.handler, args.memory, args.timeout], name).toEqual([FUNCTIONS[fn].handler, `${FUNCTIONS[fn].memoryMb} MB`, `${FUNCTIONS[fn].timeoutSeconds} seconds`]);
      const env = args.environment as Record<string, string>;
      expect(JSON.parse(env.SST_RESOURCE_State!), name).toEqual({ name: "State" });
      expect(JSON.parse(env.SST_RESOURCE_Audit!), name).toEqual({ name: "Audit" });
      expect(JSON.parse(env.SST_RESOURCE_Jobs!), name).toEqual({ url: "https://sqs.eu-central-1.amazonaws.com/000000000000/Jobs" });
      // Exactly the statements the harness enforces, each action on the resource it acts on (ListBucket on objects, or GetObject on the bucket, would break the stack).
      expect(args.permissions, name).toEqual(functionPolicy(fn, { state: bucket, audit, jobs: queue, key }, (arn, suffix) => `${arn}${suffix}`));
      const statements = args.permissions as { effect?: string; actions: string[]; resources: string[] }[];
      const allows = (action: string, resource: string) => statements.some((p) => p.effect !== "deny" && p.actions.includes(action) && p.resources.includes(resource));
      // No one deletes an audit record; only the functions whose use cases delete may delete state.
      expect(statements.some((p) => p.effect !== "deny" && p.actions.includes("s3:DeleteObject") && p.resources.some((r) => r.startsWith(audit))), name).toBe(false);
      expect(allows("s3:DeleteObject", `${bucket}/*`), name).toBe(fn !== "Aggregate");
      // The aggregate job reads the whole bucket but writes only a run's keys and refusals: not the registry, the consortium's agreement and runs, sites.
      expect(allows("s3:PutObject", `${bucket}/*`), name).toBe(fn !== "Aggregate");
      if (fn === "Aggregate") expect(statements.find((p) => p.actions.includes("s3:PutObject") && p.resources[0]!.startsWith(bucket))?.resources).toEqual(AGGREGATE_WRITES.map((p) => `${bucket}/${p}`));
      expect(allows("kms:GenerateDataKey", key) && allows("kms:Decrypt", key), name).toBe(true);
      // The jobs may not write credentials, operators or identities: an explicit deny.
      const denied = statements.filter((p) => p.effect === "deny").flatMap((p) => p.resources);
      expect(denied, name).toEqual(fn === "Api" ? [] : CREDENTIAL_PREFIXES.map((p) => `${bucket}/${p}*`));
      // The secrets each handler needs, and nothing that grants more.
      const linked = (args.link as Captured[]).map((l) => `${l.kind} ${l.name}`);
      expect(linked.every((l) => l.startsWith("Secret ")), name).toBe(true);
    }
    expect((fns.find((f) => f.name === "Api")!.args.link as Captured[]).map((l) => l.name)).toEqual(["AdminToken", "AuditKey"]);
    // The public Function URL is the API's only.
    expect(fns.filter((f) => f.args.url === true).map((f) => f.name)).toEqual(["Api"]);
  });

  it("keeps the audit trail under Object Lock in compliance mode (six years unless configured), both buckets versioned, encrypted with the customer-managed key and logged", async () => {
    const created = await evaluateInfra(false);
    const one = (kind: string, name: string) => created.find((c) => c.kind === kind && c.name === name)?.args ?? {};
    const auditArgs = one("Bucket", "Audit") as { versioning: boolean; policy: unknown; transform: Record<string, (args: Record<string, unknown>, opts: Record<string, unknown>) => undefined> };
    expect(auditArgs.versioning).toBe(true);
    // Object Lock from the bucket's creation; the bucket and what guards it outlive the stage (locked records cannot be emptied, and must not lose their lock, policy or key).
    const bucketArgs: Record<string, unknown> = {};
    const kept: Record<string, unknown> = {};
    auditArgs.transform.bucket!(bucketArgs, kept);
    expect([bucketArgs, kept]).toEqual([{ objectLockEnabled: true, forceDestroy: false }, { retainOnDelete: true }]);
    for (const part of ["versioning", "policy", "publicAccessBlock"]) {
      const opts: Record<string, unknown> = {};
      auditArgs.transform[part]!({}, opts);
      expect(opts, part).toEqual({ retainOnDelete: true });
    }
    for (const [kind, name] of [["BucketObjectLockConfigurationV2", "AuditLock"], ["BucketServerSideEncryptionConfigurationV2", "AuditEncryption"], ["BucketLoggingV2", "AuditLogging"], ["KmsKey", "StateKey"]]) {
      expect(created.find((c) => c.kind === kind && c.name === name)?.opts, name).toEqual({ retainOnDelete: true });
    }
    // A record once written stays the current version: any PUT without If-None-Match is refused, whoever sends it.
    expect(auditArgs.policy).toEqual([{ effect: "deny", actions: ["s3:PutObject"], principals: "*", paths: ["*"], conditions: [{ test: "Null", variable: "s3:if-none-match", values: ["true"] }] }]);
    expect(one("Bucket", "State")).toMatchObject({ versioning: true });
    expect(one("BucketObjectLockConfigurationV2", "AuditLock")).toEqual({ bucket: "Audit", rule: { defaultRetention: { mode: "COMPLIANCE", years: 6 } } });
    expect(one("KmsKey", "StateKey")).toMatchObject({ enableKeyRotation: true });
    for (const b of ["State", "Audit"]) {
      expect(one("BucketServerSideEncryptionConfigurationV2", `${b}Encryption`), b).toEqual({ bucket: b, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key }, bucketKeyEnabled: true }] });
      expect(one("BucketLoggingV2", `${b}Logging`), b).toEqual({ bucket: b, targetBucket: "AccessLogs", targetPrefix: `logs/${b}/` });
    }
    process.env.CONSILIUM_AUDIT_RETENTION_YEARS = "10";
    const longer = await evaluateInfra(false);
    expect(longer.find((c) => c.name === "AuditLock")?.args).toMatchObject({ rule: { defaultRetention: { years: 10 } } });
    process.env.CONSILIUM_AUDIT_RETENTION_YEARS = "six";
    await expect(evaluateInfra(false)).rejects.toThrow(/CONSILIUM_AUDIT_RETENTION_YEARS must be a whole number of years from 1 to 100, not "six"/);
  });

  it("wires the dead-letter queue, stuck and skipped rounds and the jobs' errors to alarms on the consortium's SNS topic", async () => {
    process.env.CONSILIUM_ALARM_EMAIL = "oncall@consortium.example";
    const created = await evaluateInfra(true);
    const topic = "arn:aws:sns:eu-central-1:000000000000:Alarms";
    const alarms = created.filter((c) => c.kind === "MetricAlarm");
    const watched = alarms.map((a) => [a.name, a.args.namespace, a.args.metricName, a.args.dimensions]);
    expect(watched).toEqual([
      ["JobsDeadLettered", "AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName: "queue-JobsDlq" }],
      ["RoundStuck", "Consilium", "RoundsRequeued", { Stage: "eu" }],
      ["RoundSkipped", "Consilium", "RoundsSkipped", { Stage: "eu" }],
      ["AggregateErrors", "AWS/Lambda", "Errors", { FunctionName: "function-JobsSubscriber" }],
      ["CloseRoundsErrors", "AWS/Lambda", "Errors", { FunctionName: "function-CloseRounds" }],
      ["RegionRelayErrors", "AWS/Lambda", "Errors", { FunctionName: "function-RegionRelay" }],
      ["AuditRecordsNotWritten", "Consilium/eu", "AuditRecordsNotWritten", undefined],
    ]);
    // An audit record not written is a logged line in any function: counted from each one's log group, by the phrase the code logs.
    const filters = created.filter((c) => c.kind === "LogMetricFilter").map((c) => [c.args.logGroupName, c.args.pattern, c.args.metricTransformation]);
    const counted = { name: "AuditRecordsNotWritten", namespace: "Consilium/eu", value: "1" };
    expect(filters).toEqual(["/sst/log-group-Api", "/sst/log-group-JobsSubscriber", "/sst/log-group-CloseRounds", "/sst/log-group-RegionRelay"].map((g) => [g, `"${AUDIT_NOT_WRITTEN}"`, counted]));
    for (const a of alarms) expect(a.args.alarmActions, a.name).toEqual([topic]);
    expect(created.find((c) => c.kind === "TopicSubscription")?.args).toEqual({ topic, protocol: "email", endpoint: "oncall@consortium.example" });
  });

  it("catches a function given s3:*, or linking the bucket", async () => {
    const fns = functionsOf(await evaluateInfra(false));
    const api = fns.find((f) => f.name === "Api")!;
    const widened = { ...api.args, permissions: [...(api.args.permissions as object[]), { actions: ["s3:*"], resources: [`${bucket}/*`] }] };
    expect(policyProblems([{ name: "Api", args: widened }], allowed)).toEqual(["Api is allowed s3:*"]);
    // infra/* type-checks against SST's declarations (npm run typecheck:infra), not with the rest: imported by a computed path.
    const storage = "storage";
    const { bucket: stateBucket } = (await import(`../infra/${storage}.ts`)) as { bucket: Captured };
    const linking = { ...api.args, link: [...(api.args.link as object[]), stateBucket] };
    expect(policyProblems([{ name: "Api", args: linking }], allowed)).toEqual(["Api links the Bucket State: SST grants s3:* for it"]);
    const elsewhere = { ...api.args, permissions: [{ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::another-bucket/*"] }] };
    expect(policyProblems([{ name: "Api", args: elsewhere }], allowed)).toEqual(["Api reaches arn:aws:s3:::another-bucket/*"]);
    const managed = { ...api.args, policies: ["arn:aws:iam::aws:policy/AmazonS3FullAccess"] };
    expect(policyProblems([{ name: "Api", args: managed }], allowed)).toEqual(["Api sets policies"]);
  });
});
