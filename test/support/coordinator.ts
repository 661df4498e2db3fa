/**
 * @module
 * Fixtures for the coordinator's tests: in-memory deps on a hand-driven clock, a small consortium
 * (three hospitals, two features, an MLP body of 13 values), and a harness that acts as the
 * administrator and as each site through `createApp(deps).request`, in-process.
 */
import { z } from "zod";
import { CodecSpec, encodeUpdate, sha256Hex, sharedSeed, type CodecOptions } from "../../core/codec/index.ts";
import { DEFAULT_BINS } from "../../core/metrics/index.ts";
import { computeSiteStats } from "../../core/preprocess/site-stats.ts";
import type { Table } from "../../core/preprocess/table.ts";
import { EnrolResponse, FederationConfig } from "../../core/schemas/federation.ts";
import { Rejection, RoundRecord, type UpdateManifest } from "../../core/schemas/round.ts";
import { FederationStatus } from "../../core/schemas/status.ts";
import { Task } from "../../core/schemas/task.ts";
import { taskSeed } from "../../core/schemas/task-seed.ts";
import { MemoryJobQueue } from "../../functions/adapters/memory-job-queue.ts";
import { MemoryObjectStore } from "../../functions/adapters/memory-object-store.ts";
import { createApp } from "../../functions/app.ts";
import type { CoordinatorDeps } from "../../functions/deps.ts";
import { handleJobMessage } from "../../functions/jobs.ts";
import { keys } from "../../functions/keys.ts";
import type { Clock, Logger, ObjectStore, PutOptions } from "../../functions/ports.ts";
import { scopeToRun } from "../../functions/use-cases/runs/run-scope.ts";
import { readJson } from "../../functions/repo.ts";
import type { AggregateOutcome } from "../../functions/use-cases/aggregate/aggregate-round.ts";
import { loadModel } from "../../functions/use-cases/models.ts";

export const ADMIN_TOKEN = "admin-token-for-tests-0123456789";
export const T0 = 1_700_000_000_000;

/** Time moves only when a test says so. */
export class ManualClock implements Clock {
  constructor(public ms = T0) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface LogEntry {
  readonly level: "info" | "warn" | "error";
  readonly message: string;
  readonly fields?: Record<string, unknown>;
}

export function recordingLogger(): Logger & { readonly entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry["level"]) => (message: string, fields?: Record<string, unknown>) => void entries.push({ level, message, fields });
  return { entries, info: at("info"), warn: at("warn"), error: at("error") };
}

/** A key as the run that owns it names it (`runs/000001/state.json` is `state.json`): what tests match on. */
const runLocal = (key: string): string => key.replace(/^runs\/\d{6}\//, "");

/**
 * A store that fails chosen writes, to stand in for a Lambda that dies between two writes, fails
 * chosen reads, to stand in for a transient S3 or network error, or runs another request just
 * before a chosen write, to replay an interleaving of two Lambdas. Matchers see a run's keys as
 * the run names them.
 */
export class FlakyStore extends MemoryObjectStore {
  readonly #failures: ((key: string) => boolean)[] = [];
  readonly #readFailures: ((key: string) => boolean)[] = [];
  readonly #hooks: { matches: (key: string) => boolean; run: () => Promise<unknown> }[] = [];

  /** The next read whose key matches fails once with a plain Error, as a dropped connection would. */
  failNextGet(matches: (key: string) => boolean): void {
    this.#readFailures.push(matches);
  }

  override async get(key: string): Promise<Uint8Array | null> {
    const i = this.#readFailures.findIndex((matches) => matches(runLocal(key)));
    if (i >= 0) {
      this.#readFailures.splice(i, 1);
      throw new Error(`injected failure reading ${runLocal(key)}`);
    }
    return super.get(key);
  }

  override async getStream(key: string): Promise<AsyncIterable<Uint8Array> | null> {
    const i = this.#readFailures.findIndex((matches) => matches(runLocal(key)));
    if (i >= 0) {
      this.#readFailures.splice(i, 1);
      throw new Error(`injected failure reading ${runLocal(key)}`);
    }
    return super.getStream(key);
  }

  /** The next write whose key matches fails once, before anything is stored. */
  failNextPut(matches: (key: string) => boolean): void {
    this.#failures.push(matches);
  }

  /** Before the next write whose key matches, `run` goes first and runs to its end (once). */
  beforeNextPut(matches: (key: string) => boolean, run: () => Promise<unknown>): void {
    this.#hooks.push({ matches, run });
  }

  override async put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<boolean> {
    const h = this.#hooks.findIndex((hook) => hook.matches(runLocal(key)));
    if (h >= 0) await this.#hooks.splice(h, 1)[0]!.run();
    const i = this.#failures.findIndex((matches) => matches(runLocal(key)));
    if (i >= 0) {
      this.#failures.splice(i, 1);
      throw new Error(`injected failure writing ${runLocal(key)}`);
    }
    return super.put(key, body, options);
  }
}

export type TestDeps = CoordinatorDeps & {
  readonly store: MemoryObjectStore;
  readonly queue: MemoryJobQueue;
  readonly clock: ManualClock;
  readonly logger: ReturnType<typeof recordingLogger>;
};

/** One run's deps over test deps: the run's view of the store, the same queue, clock and logger. */
export type RunTestDeps = Omit<TestDeps, "store"> & { readonly store: ObjectStore };

export function runTestDeps(root: TestDeps, seq: number): RunTestDeps {
  return { ...root, ...scopeToRun(root, seq), queue: root.queue, clock: root.clock, logger: root.logger };
}

/** `minPartBytes` goes to the memory store made when none is given (multipart tests with parts of a few bytes). */
export function testDeps(options: { maxBodyBytes?: number; store?: MemoryObjectStore; minPartBytes?: number } = {}): TestDeps {
  const clock = new ManualClock();
  return {
    store: options.store ?? new MemoryObjectStore({ clock, minPartBytes: options.minPartBytes }),
    queue: new MemoryJobQueue(),
    clock,
    logger: recordingLogger(),
    adminToken: ADMIN_TOKEN,
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
  };
}

/** The consortium's agreement as an administrator would post it (schema defaults not yet applied). */
export function federationConfig(overrides: Partial<z.input<typeof FederationConfig>> = {}): z.input<typeof FederationConfig> {
  return {
    id: "test-fed",
    features: {
      features: [
        { name: "age", column: "age", type: "numeric" },
        { name: "sex", column: "sex", type: "categorical" },
      ],
      label: { column: "outcome", positive: ["1"] },
    },
    model: { kind: "mlp", hidden: [3] },
    training: { localEpochs: 1, batchSize: 8, learningRate: 0.1 },
    rounds: 3,
    expectedSites: 3,
    roundDeadlineSeconds: 600,
    strategy: "fedavg",
    codec: "float32",
    seed: 7,
    ...overrides,
  };
}

/** Inputs are `age` and `sex=M`, so the body is dense0 (2×3 + 3) and out (3×1 + 1). */
export const BODY_SIZE = 13;

const columns = ["age", "sex", "outcome"];
/** Each hospital's training rows, as its loader would read them. */
export const siteTables: readonly Table[] = [
  { columns, rows: [["50", "M", "1"], ["60", "F", "0"], ["40", "M", "0"]] },
  { columns, rows: [["70", "F", "1"], ["55", "M", "1"]] },
  { columns, rows: [["45", "F", "0"], ["65", "M", "1"], ["35", "F", "0"], ["58", "M", "1"]] },
];

export interface TestSite {
  readonly siteId: string;
  readonly token: string;
  readonly table: Table;
}

/** A deterministic delta, different for each `k`. */
export function delta(k: number, length = BODY_SIZE): Float32Array {
  return Float32Array.from({ length }, (_, i) => Math.fround(0.01 * k * (i + 1) - 0.05 * k));
}

/** The sample-weighted mean of the deltas, added to `base` (what FedAvg at server rate 1 gives). */
export function fedAvgExpected(base: Float32Array, parts: readonly { delta: Float32Array; samples: number }[]): Float64Array {
  const total = parts.reduce((n, p) => n + p.samples, 0);
  return Float64Array.from(base, (b, i) => b + parts.reduce((s, p) => s + (p.samples / total) * (p.delta[i] ?? 0), 0));
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-6): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] ?? Number.NaN;
    const e = expected[i] ?? Number.NaN;
    if (!(Math.abs(a - e) <= tolerance)) throw new Error(`value ${i} is ${a}, expected ${e} ± ${tolerance}`);
  }
}

export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export type ErrorBody = z.infer<typeof ErrorBody>;

export interface Reply {
  readonly status: number;
  readonly body: unknown;
}

export interface RequestOptions {
  readonly token?: string;
  /** Sent as JSON; use `raw` for bodies that are not. */
  readonly json?: unknown;
  readonly raw?: string;
  readonly headers?: Record<string, string>;
}

/** The coordinator app over test deps, spoken to as the administrator and as sites. */
export class Harness {
  readonly app: ReturnType<typeof createApp>;
  /** The federation's codec spec, which `upload` uses unless told otherwise. */
  codec = "float32";
  /** The federation's seed, from which `upload` draws a seeded codec's round seed. */
  seed = 0;

  /**
   * One run's deps, the first run's until `useRun` (its store is the run's view of the store:
   * `runs/000001/…`, the consortium's keys shared), for tests that call use cases, upload or read
   * keys directly.
   */
  deps: RunTestDeps;

  /** The consortium's deps the app is built on. */
  constructor(readonly root: TestDeps = testDeps()) {
    this.deps = runTestDeps(root, 1);
    this.app = createApp(root);
  }

  /** Speaks of run `seq` from now on: its keys, its uploads. */
  useRun(seq: number): void {
    this.deps = runTestDeps(this.root, seq);
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.raw;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] = "application/json";
    }
    const res = await this.app.request(path, { method, headers, body });
    const text = await res.text();
    return { status: res.status, body: text === "" ? null : JSON.parse(text) };
  }

  admin(method: string, path: string, json?: unknown): Promise<Reply> {
    return this.request(method, path, { token: ADMIN_TOKEN, json });
  }

  async createFederation(overrides: Partial<z.input<typeof FederationConfig>> = {}): Promise<void> {
    const config = federationConfig(overrides);
    const res = await this.admin("POST", "/v1/admin/federation", config);
    if (res.status !== 201) throw new Error(`create federation: ${res.status} ${JSON.stringify(res.body)}`);
    this.codec = config.codec;
    this.seed = config.seed;
  }

  async enrol(name: string, table: Table): Promise<TestSite> {
    const res = await this.admin("POST", "/v1/admin/sites", { name });
    if (res.status !== 201) throw new Error(`enrol ${name}: ${res.status} ${JSON.stringify(res.body)}`);
    return { ...EnrolResponse.parse(res.body), table };
  }

  async task(site: TestSite): Promise<Task> {
    const res = await this.request("GET", "/v1/task", { token: site.token });
    if (res.status !== 200) throw new Error(`task for ${site.siteId}: ${res.status} ${JSON.stringify(res.body)}`);
    return Task.parse(res.body);
  }

  async postStats(site: TestSite): Promise<Reply> {
    const task = await this.task(site);
    if (task.kind !== "stats") throw new Error(`expected a stats task, got ${task.kind}`);
    return this.request("POST", "/v1/stats", { token: site.token, json: computeSiteStats(site.table, task.features) });
  }

  /** Creates the federation and enrols three hospitals, none of which has reported statistics yet. */
  async enrolSites(overrides: Partial<z.input<typeof FederationConfig>> = {}): Promise<TestSite[]> {
    await this.createFederation(overrides);
    const sites: TestSite[] = [];
    for (const [i, name] of ["St Mary's", "Royal Infirmary", "General Hospital"].entries()) sites.push(await this.enrol(name, siteTables[i]!));
    return sites;
  }

  /** Creates the federation, enrols three hospitals and lets each report its statistics: round 1 is open. */
  async startTraining(overrides: Partial<z.input<typeof FederationConfig>> = {}): Promise<TestSite[]> {
    const sites = await this.enrolSites(overrides);
    for (const site of sites) {
      const res = await this.postStats(site);
      if (res.status !== 202) throw new Error(`stats of ${site.siteId}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return sites;
  }

  /**
   * Writes an encoded update where the site's presigned PUT would, and returns its manifest. It
   * encodes as a site would, with the round's shared seed, unless `options` says otherwise.
   */
  async upload(
    site: TestSite,
    round: number,
    values: Float32Array,
    samples: number,
    codec: string = this.codec,
    options: CodecOptions = {},
  ): Promise<z.input<typeof UpdateManifest>> {
    const { name, ...spec } = CodecSpec.parse(codec);
    const bytes = encodeUpdate(values, name, { ...spec, seed: sharedSeed(taskSeed(this.seed, round)), ...options });
    await this.deps.store.put(keys.updateBin(round, site.siteId), bytes);
    return { round, samples, codec, byteLength: bytes.length, sha256: sha256Hex(bytes) };
  }

  postUpdate(site: TestSite, round: number, manifest: unknown): Promise<Reply> {
    return this.request("POST", `/v1/rounds/${round}/updates`, { token: site.token, json: manifest });
  }

  /** Uploads and reports a valid update; throws unless the coordinator accepts it. */
  async submit(site: TestSite, round: number, values: Float32Array, samples: number): Promise<Reply> {
    const res = await this.postUpdate(site, round, await this.upload(site, round, values, samples));
    if (res.status !== 202) throw new Error(`update of ${site.siteId}: ${res.status} ${JSON.stringify(res.body)}`);
    return res;
  }

  /** Every site not in `accepted` sends a valid update to `round`, weighing its training rows; then the queued jobs run. */
  async finishRound(sites: readonly TestSite[], round: number, accepted: readonly TestSite[] = []): Promise<AggregateOutcome[]> {
    for (const [i, site] of sites.entries()) if (!accepted.includes(site)) await this.submit(site, round, delta(i + 1), site.table.rows.length);
    return this.runJobs();
  }

  /** Runs every queued job, as the SQS-triggered function would. */
  async runJobs(): Promise<AggregateOutcome[]> {
    const outcomes: AggregateOutcome[] = [];
    for (const body of this.deps.queue.drain()) outcomes.push(await handleJobMessage(this.deps, body));
    return outcomes;
  }

  async status(): Promise<FederationStatus> {
    const res = await this.admin("GET", "/v1/admin/status");
    if (res.status !== 200) throw new Error(`status: ${res.status} ${JSON.stringify(res.body)}`);
    return FederationStatus.parse(res.body);
  }

  async rejections(): Promise<Rejection[]> {
    const list = await this.deps.store.list(keys.rejectionsPrefix);
    return Promise.all(list.map(async (k) => (await readJson(this.deps.store, k, Rejection))!));
  }

  async round(r: number): Promise<RoundRecord | null> {
    return readJson(this.deps.store, keys.round(r), RoundRecord);
  }

  model(version: number): Promise<Float32Array> {
    return loadModel(this.deps, version);
  }
}

/** Evaluation counts with scores of 0 and 1 only: tp and tn at the right end, fn and fp at the wrong one. */
export function edgeCounts(tp: number, fn: number, tn: number, fp: number) {
  const histogram = (low: number, high: number) => Array.from({ length: DEFAULT_BINS }, (_, i) => (i === 0 ? low : i === DEFAULT_BINS - 1 ? high : 0));
  return { n: tp + fn + tn + fp, tp, fp, tn, fn, pos: histogram(fn, tp), neg: histogram(tn, fp) };
}
