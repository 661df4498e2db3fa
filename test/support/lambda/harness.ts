/**
 * @module
 * Lambda on one machine, for bundles built as SST builds them (`scripts/build-lambda.ts`): each
 * execution environment is a Node.js process (`runtime.mjs`) that loads its bundle once (a cold
 * start) and then takes one invocation at a time; concurrent invocations get more environments, as
 * Lambda scales. Each invocation is held to Lambda's limits, and the harness records every broken
 * one in `violations` (a run that broke none leaves it empty):
 *
 * - payload: 6 MB for the event of a synchronous invocation and for the response;
 * - memory: the environment's peak resident memory past the function's configured memory ends the
 *   environment, as Lambda's out-of-memory kill does;
 * - timeout: an invocation past the function's timeout is cut off and its environment killed;
 * - init: loading the bundle may take at most 10 s;
 * - file system: writes outside /tmp fail with EROFS (`runtime.mjs`).
 *
 * The event sources that invoke functions in the deployed stack are played by `function-url.ts`
 * (Function URL, payload format 2.0), `queue-trigger.ts` (SQS event source mapping with partial
 * batch responses) and `schedule.ts` (EventBridge scheduled events).
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Lambda's limit on a synchronous invocation's request and response payloads. */
export const PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
/** Lambda's limit on a function's init phase. */
export const INIT_LIMIT_MS = 10_000;

const RUNTIME = fileURLToPath(new URL("./runtime.mjs", import.meta.url));

export interface HarnessFunction {
  readonly name: string;
  /** The function's `/var/task`: its bundle and `resource.enc`. */
  readonly dir: string;
  /** The bundle's path under `dir`. */
  readonly file: string;
  readonly exportName: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** The function's whole environment (Lambda passes nothing else but PATH and its own variables). */
  readonly env: Readonly<Record<string, string>>;
  /** Extra Node.js flags (the benchmark loads unbundled sources with `--import tsx`). */
  readonly nodeArgs?: readonly string[];
}

export type Invocation =
  | { readonly ok: true; readonly payload: unknown }
  | { readonly ok: false; readonly errorType: string; readonly errorMessage: string };

export interface FunctionStats {
  /** Init time of each cold start, in milliseconds. */
  readonly coldStartsMs: number[];
  /** Duration of each cold start's first invocation, in milliseconds. */
  readonly firstInvocationsMs: number[];
  invocations: number;
  errors: number;
  /** Highest resident memory any of its environments reached. */
  peakRssMb: number;
  /** Longest invocation. */
  maxDurationMs: number;
  /** All invocations' time, in milliseconds (Lambda bills it times the memory). */
  totalMs: number;
  /** Largest event and response seen. */
  maxEventBytes: number;
  maxResponseBytes: number;
}

interface Environment {
  readonly child: ChildProcess;
  busy: boolean;
  invoked: number;
  readonly output: string[];
}

type Message =
  | { type: "ready"; initMs: number; maxRssMb: number }
  | { type: "init-error"; message: string }
  | { type: "violation"; message: string }
  | { type: "result"; id: string; payload: string; ms: number; maxRssMb: number }
  | { type: "error"; id: string; errorType: string; errorMessage: string; ms: number; maxRssMb: number };

export interface HarnessOptions {
  /** At most this many environments per function at once; further invocations wait (Lambda would throttle). Default 16. */
  readonly maxConcurrency?: number;
  /** Sees each line a function writes to stdout or stderr (its CloudWatch log); default: kept only to explain a failure. */
  readonly onLog?: (functionName: string, line: string) => void;
}

export class LambdaHarness {
  /** Every broken limit, in the order seen: a run that broke none leaves this empty. */
  readonly violations: string[] = [];
  readonly stats = new Map<string, FunctionStats>();
  private readonly functions = new Map<string, HarnessFunction>();
  private readonly environments = new Map<string, Environment[]>();
  private readonly waiting = new Map<string, Array<() => void>>();
  /** Environments of each function still starting: they count against the concurrency limit. */
  private readonly starting = new Map<string, number>();
  private stopped = false;

  constructor(functions: readonly HarnessFunction[], private readonly options: HarnessOptions = {}) {
    for (const f of functions) {
      this.functions.set(f.name, f);
      this.environments.set(f.name, []);
      this.stats.set(f.name, { coldStartsMs: [], firstInvocationsMs: [], invocations: 0, errors: 0, peakRssMb: 0, maxDurationMs: 0, totalMs: 0, maxEventBytes: 0, maxResponseBytes: 0 });
    }
  }

  private fn(name: string): HarnessFunction {
    const f = this.functions.get(name);
    if (!f) throw new Error(`no function ${name} in the harness`);
    return f;
  }

  private violate(message: string): void {
    this.violations.push(message);
  }

  /** Invokes the function synchronously (RequestResponse) with `event`, as its trigger would. */
  async invoke(name: string, event: unknown): Promise<Invocation> {
    const f = this.fn(name);
    const stats = this.stats.get(name)!;
    const body = JSON.stringify(event);
    const eventBytes = Buffer.byteLength(body);
    stats.maxEventBytes = Math.max(stats.maxEventBytes, eventBytes);
    if (eventBytes > PAYLOAD_LIMIT_BYTES) {
      this.violate(`${name}: event of ${eventBytes} bytes is over Lambda's ${PAYLOAD_LIMIT_BYTES}-byte payload limit`);
      return { ok: false, errorType: "RequestEntityTooLargeException", errorMessage: `Request must be smaller than ${PAYLOAD_LIMIT_BYTES} bytes for the InvokeFunction operation` };
    }
    const env = await this.acquire(f);
    if (!env) return { ok: false, errorType: "Runtime.InitError", errorMessage: `${name} could not start` };
    stats.invocations++;
    const first = env.invoked++ === 0;
    const id = randomUUID();
    const deadline = Date.now() + f.timeoutSeconds * 1000;
    try {
      const reply = await new Promise<Extract<Message, { type: "result" | "error" }> | { type: "timeout" } | { type: "exit"; code: number | null; signal: string | null }>((resolveReply) => {
        const onMessage = (m: Message) => {
          if ((m.type === "result" || m.type === "error") && m.id === id) done(m);
        };
        const onExit = (code: number | null, signal: string | null) => done({ type: "exit", code, signal });
        const timer = setTimeout(() => done({ type: "timeout" }), f.timeoutSeconds * 1000);
        const done = (r: Parameters<typeof resolveReply>[0]) => {
          clearTimeout(timer);
          env.child.off("message", onMessage);
          env.child.off("exit", onExit);
          resolveReply(r);
        };
        env.child.on("message", onMessage);
        env.child.on("exit", onExit);
        env.child.send({ type: "invoke", id, event: body, deadline });
      });
      if (reply.type === "timeout") {
        this.violate(`${name}: invocation timed out after ${f.timeoutSeconds} s`);
        this.retire(f.name, env);
        stats.errors++;
        return { ok: false, errorType: "Sandbox.Timedout", errorMessage: `Task timed out after ${f.timeoutSeconds}.00 seconds` };
      }
      if (reply.type === "exit") {
        this.violate(`${name}: the environment exited during an invocation (code ${reply.code}, signal ${reply.signal}): ${env.output.slice(-5).join(" | ")}`);
        this.retire(f.name, env);
        stats.errors++;
        return { ok: false, errorType: "Runtime.ExitError", errorMessage: `Runtime exited with ${reply.signal ?? reply.code}` };
      }
      stats.maxDurationMs = Math.max(stats.maxDurationMs, reply.ms);
      stats.totalMs += reply.ms;
      stats.peakRssMb = Math.max(stats.peakRssMb, reply.maxRssMb);
      if (first) stats.firstInvocationsMs.push(reply.ms);
      if (reply.maxRssMb > f.memoryMb) {
        this.violate(`${name}: ${reply.maxRssMb.toFixed(0)} MB resident, over its ${f.memoryMb} MB`);
        this.retire(f.name, env);
        stats.errors++;
        return { ok: false, errorType: "Runtime.OutOfMemory", errorMessage: `Runtime exited: memory over ${f.memoryMb} MB` };
      }
      if (reply.type === "error") {
        stats.errors++;
        return { ok: false, errorType: reply.errorType, errorMessage: reply.errorMessage };
      }
      const responseBytes = Buffer.byteLength(reply.payload);
      stats.maxResponseBytes = Math.max(stats.maxResponseBytes, responseBytes);
      if (responseBytes > PAYLOAD_LIMIT_BYTES) {
        this.violate(`${name}: response of ${responseBytes} bytes is over Lambda's ${PAYLOAD_LIMIT_BYTES}-byte payload limit`);
        stats.errors++;
        return { ok: false, errorType: "Function.ResponseSizeTooLarge", errorMessage: `Response payload size exceeded maximum allowed payload size (${PAYLOAD_LIMIT_BYTES} bytes).` };
      }
      return { ok: true, payload: JSON.parse(reply.payload) as unknown };
    } finally {
      this.release(f.name, env);
    }
  }

  /** An idle environment of the function, or a new one (a cold start), or, at the concurrency limit, the next one freed. */
  private async acquire(f: HarnessFunction): Promise<Environment | null> {
    const pool = this.environments.get(f.name)!;
    for (;;) {
      if (this.stopped) return null;
      const idle = pool.find((e) => !e.busy);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (pool.length + (this.starting.get(f.name) ?? 0) < (this.options.maxConcurrency ?? 16)) return this.start(f);
      await new Promise<void>((resolveFreed) => this.waiting.set(f.name, [...(this.waiting.get(f.name) ?? []), resolveFreed]));
    }
  }

  private release(name: string, env: Environment): void {
    env.busy = false;
    const next = this.waiting.get(name)?.shift();
    next?.();
  }

  private retire(name: string, env: Environment): void {
    const pool = this.environments.get(name)!;
    const at = pool.indexOf(env);
    if (at >= 0) pool.splice(at, 1);
    env.child.kill("SIGKILL");
  }

  private async start(f: HarnessFunction): Promise<Environment | null> {
    this.starting.set(f.name, (this.starting.get(f.name) ?? 0) + 1);
    try {
      return await this.launch(f);
    } finally {
      this.starting.set(f.name, (this.starting.get(f.name) ?? 1) - 1);
    }
  }

  private async launch(f: HarnessFunction): Promise<Environment | null> {
    const started = performance.now();
    const child = fork(RUNTIME, [join(f.dir, f.file), f.exportName, f.name, String(f.memoryMb), String(f.timeoutSeconds)], {
      cwd: f.dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...f.env },
      // V8's heap may not outgrow the function's memory (Lambda's Node.js runtime sizes it the same way).
      execArgv: [`--max-old-space-size=${Math.floor(f.memoryMb * 0.9)}`, ...(f.nodeArgs ?? [])],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "advanced",
    });
    const env: Environment = { child, busy: true, invoked: 0, output: [] };
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line) continue;
        env.output.push(line);
        if (env.output.length > 50) env.output.shift();
        this.options.onLog?.(f.name, line);
      }
    };
    child.stdout?.on("data", onLine);
    child.stderr?.on("data", onLine);
    child.on("message", (m: Message) => {
      if (m.type === "violation") this.violate(m.message);
    });
    // An environment that dies while idle is not handed another invocation (one that dies busy is retired by `invoke`).
    child.on("exit", () => {
      const pool = this.environments.get(f.name)!;
      if (!env.busy && pool.includes(env)) pool.splice(pool.indexOf(env), 1);
    });
    const ready = await new Promise<Extract<Message, { type: "ready" }> | string>((resolveReady) => {
      const timer = setTimeout(() => resolveReady(`init took over ${INIT_LIMIT_MS} ms`), INIT_LIMIT_MS);
      child.on("message", (m: Message) => {
        if (m.type === "ready") (clearTimeout(timer), resolveReady(m));
        if (m.type === "init-error") (clearTimeout(timer), resolveReady(`init failed: ${m.message}`));
      });
      child.on("exit", (code) => (clearTimeout(timer), resolveReady(`exited during init (code ${code}): ${env.output.slice(-5).join(" | ")}`)));
    });
    if (typeof ready === "string") {
      this.violate(`${f.name}: ${ready}`);
      child.kill("SIGKILL");
      return null;
    }
    // Stopped while it started: it joins no pool (stop() has emptied them) and ends here.
    if (this.stopped) {
      child.kill("SIGKILL");
      return null;
    }
    const stats = this.stats.get(f.name)!;
    // The cold start as Lambda bills it: the process up and the bundle loaded.
    stats.coldStartsMs.push(performance.now() - started);
    stats.peakRssMb = Math.max(stats.peakRssMb, ready.maxRssMb);
    this.environments.get(f.name)!.push(env);
    return env;
  }

  /** Starts one more environment of the function (a cold start without an invocation) and answers how long it took, or null when it failed. */
  async coldStart(name: string): Promise<number | null> {
    const env = await this.start(this.fn(name));
    if (!env) return null;
    this.release(name, env);
    return this.stats.get(name)!.coldStartsMs.at(-1) ?? null;
  }

  /** Ends every environment; invocations in flight fail. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const [, resolvers] of this.waiting) for (const r of resolvers.splice(0)) r();
    const all = [...this.environments.values()].flat();
    await Promise.all(all.map((e) => new Promise<void>((resolveExit) => {
      if (e.child.exitCode !== null || e.child.signalCode !== null) return resolveExit();
      e.child.once("exit", () => resolveExit());
      e.child.kill("SIGKILL");
    })));
    for (const pool of this.environments.values()) pool.splice(0);
  }
}
