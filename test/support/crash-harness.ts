/**
 * @module
 * A heart-disease federation whose coordinator is a child process (`consilium coordinator
 * --data-dir`) that can be `kill -9`ed at chosen store writes and started again on the same folder,
 * while four site runners, in this process, wait the outage out with their own retry policy. It
 * answers every model's weights, so that a run with kills can be compared byte for byte with one
 * without. Loopback only; every wait is bounded.
 */
import { runStore } from "../../functions/adapters/run-store.ts";
import { keys as storeKeys } from "../../functions/keys.ts";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { AdminClient } from "../../client/admin-client.ts";
import { CoordinatorClient } from "../../client/coordinator-client.ts";
import { silentLogger } from "../../core/logger.ts";
import type { Task } from "../../core/schemas/task.ts";
import { federationFromDataset } from "../../cli/commands/federation-source.ts";
import { startEmbeddedStack } from "../../cli/embedded-stack.ts";
import { seededRandom } from "../../core/random.ts";
import { heartDiseaseSites, loadSiteData } from "../../gpu-runner/data/site-data.ts";
import { selectBackend } from "../../gpu-runner/model/backend.ts";
import { runSite } from "../../gpu-runner/session/site-runner.ts";

const CLI = fileURLToPath(new URL("../../bin/consilium.mjs", import.meta.url));
const ADMIN = randomBytes(24).toString("base64url");

/** Which part of the federation a store write belongs to. */
export type WritePhase = "setup" | "stats" | "round" | "aggregation" | "queue";

/** Kill the coordinator `delayMs` after the `nth` acknowledged store write of `phase` (counted across restarts). */
export interface KillPoint {
  readonly phase: WritePhase;
  readonly nth: number;
  readonly delayMs: number;
}

export interface CrashRunOptions {
  readonly workDir: string;
  readonly rounds: number;
  /** Another strategy than the recipe's (SCAFFOLD), through a --federation file. */
  readonly strategy?: string;
  readonly kills?: readonly KillPoint[];
  /** Gives up after this long (default 240 s). */
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface CrashRun {
  /** `models/NNNNNN/weights.bin` → bytes, every version. */
  readonly weights: ReadonlyMap<string, Buffer>;
  /** Store writes by phase in the whole run (retried writes after a restart count again). */
  readonly writes: Readonly<Record<WritePhase, number>>;
  /** The phase of every store write, in order: where a run without kills can be cut. */
  readonly sequence: readonly WritePhase[];
  /** Updates the coordinator refused with ROUND_CLOSED (a retried post after its round moved on). */
  readonly roundClosed: number;
  /** The kills done, with the write count of their phase when each was decided. */
  readonly killed: readonly KillPoint[];
  readonly evaluations: number;
  readonly finalPhase: string;
  readonly elapsedMs: number;
}

/** The phase of an acknowledged mutating request from a `--verbose` store line, or null. */
export function writePhase(line: string): WritePhase | null {
  const at = line.indexOf("embedded stack request ");
  if (at < 0) return null;
  const { method, path = "", status = 0, action } = JSON.parse(line.slice(at + 23)) as { method?: string; path?: string; status?: number; action?: string };
  if (status >= 300) return null;
  if (action !== undefined) return action === "SendMessage" || action === "DeleteMessage" ? "queue" : null;
  if (method === "GET" || method === "HEAD") return null;
  if (/\/models\/|strategy-state|included\.json|scores\.json|reputation\.json/.test(path)) return "aggregation";
  if (/\/rounds\//.test(path)) return "round";
  if (/\/(stats|preprocessing|quality)/.test(path)) return "stats";
  return "setup";
}

/**
 * A free port below Linux's ephemeral range (32768 and up): a port from that range can be taken,
 * while the coordinator is down, as the local end of some outgoing connection, and refuse the restart.
 */
async function freePort(): Promise<number> {
  for (let tries = 0; ; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const server = createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
    if (tries > 50) throw new Error("no free port from 20000 to 29999");
  }
}

/** Runs the federation to the end, killing and restarting the coordinator at each kill point. */
export async function runCrashFederation(o: CrashRunOptions): Promise<CrashRun> {
  const started = Date.now();
  const log = o.log ?? (() => undefined);
  const dataDir = join(o.workDir, "coordinator");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const pending = [...(o.kills ?? [])];
  const killed: KillPoint[] = [];
  const writes: Record<WritePhase, number> = { setup: 0, stats: 0, round: 0, aggregation: 0, queue: 0 };
  const sequence: WritePhase[] = [];
  let roundClosed = 0;
  let child: ChildProcess | null = null;
  let finished = false;
  let fatal: unknown = null;
  const doomed = new WeakSet<ChildProcess>();
  const controller = new AbortController();

  const start = (): Promise<void> => new Promise((resolve, reject) => {
    const federation = o.strategy === undefined ? ["--dataset", "heart-disease", "--sites", "4", "--rounds", String(o.rounds)] : ["--federation", federationFile];
    const args = [CLI, "coordinator", "--data-dir", dataDir, ...federation, "--port", String(port), "--verbose"];
    const proc = spawn(process.execPath, args, { env: { ...process.env, CONSILIUM_ADMIN_TOKEN: ADMIN }, stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    let ready = false;
    const last: string[] = [];
    proc.once("exit", (code, signal) => {
      if (!ready) reject(new Error(`coordinator exited before listening (${code ?? signal}): ${last.join(" | ")}`));
    });
    createInterface({ input: proc.stderr! }).on("line", (line) => {
      if (!line.startsWith("    at ")) last.push(line);
      if (last.length > 5) last.shift();
      if (!ready && line.startsWith("coordinator listening on ")) {
        ready = true;
        resolve();
      }
      if (/^(warn|error) /.test(line) && !line.includes("data-quality flag")) log(`coordinator: ${line}`);
      if (line.includes('"code":"ROUND_CLOSED"')) roundClosed++;
      const phase = writePhase(line);
      if (phase === null || proc !== child) return;
      writes[phase]++;
      sequence.push(phase);
      const next = pending[0];
      // One kill per process: the next point waits for the restarted one.
      if (next && next.phase === phase && writes[phase] >= next.nth && !finished && !doomed.has(proc)) {
        doomed.add(proc);
        pending.shift();
        killed.push({ ...next, nth: writes[phase] });
        setTimeout(() => void restart(proc, next).catch((error: unknown) => {
          fatal = error;
          controller.abort();
        }), next.delayMs);
      }
    });
  });

  const restart = async (proc: ChildProcess, point: KillPoint): Promise<void> => {
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill("SIGKILL");
    await exited;
    log(`killed at ${point.phase} write ${writes[point.phase]}; restarting`);
    await start();
  };

  const federationFile = join(o.workDir, "federation.json");
  await mkdir(o.workDir, { recursive: true });
  if (o.strategy !== undefined) {
    const { config } = await federationFromDataset("heart-disease", { rounds: o.rounds, sites: 4 });
    await writeFile(federationFile, JSON.stringify({ ...config, strategy: o.strategy }));
  }
  await start();
  try {
    await selectBackend("cpu");
    const admin = new AdminClient(url, ADMIN);
    const sites = await Promise.all(heartDiseaseSites.map(async (name, i) => ({ name, data: await loadSiteData({ kind: "heart-disease", site: name }), enrolled: await admin.enrol(name, `site-0${i + 1}`) })));
    const timer = setTimeout(() => controller.abort(), o.timeoutMs ?? 240_000);
    const evaluations = await Promise.all(sites.map(({ name, data, enrolled }) => runSite({
      siteId: enrolled.siteId, client: patientClient(url, enrolled.token, controller.signal), data, stateDir: join(o.workDir, "sites", name), logger: silentLogger, signal: controller.signal,
    })))
      .catch((error: unknown) => {
        // A runner stopped because the harness gave up: say why the harness did.
        throw fatal ?? error;
      })
      .finally(() => clearTimeout(timer));
    finished = true;
    if (fatal) throw fatal;
    const status = await admin.status();
    await stop(child);
    return { weights: await readWeights(dataDir), writes, sequence, roundClosed, killed, evaluations: evaluations.filter((e) => e !== null).length, finalPhase: status.state.phase, elapsedMs: Date.now() - started };
  } finally {
    finished = true;
    if (child) (child as ChildProcess).kill("SIGKILL");
  }
}

/** A runner's client with its own retry policy (the one a site gets), paced for a test: short pauses, two minutes of patience, polls capped at 100 ms. */
function patientClient(url: string, token: string, signal: AbortSignal): CoordinatorClient {
  return new (class extends CoordinatorClient {
    override async task(): Promise<Task> {
      const task = await super.task();
      return task.kind === "wait" ? { ...task, retryAfterMs: Math.min(task.retryAfterMs, 100) } : task;
    }
  })(url, token, fetch, { policy: { patienceMs: 120_000, firstPauseMs: 50, maxPauseMs: 400 }, signal });
}

async function stop(proc: ChildProcess | null): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  proc.kill("SIGTERM");
  await exited;
}

async function readWeights(dataDir: string): Promise<Map<string, Buffer>> {
  const stack = await startEmbeddedStack({ dataDir });
  try {
    // The consortium's first run, the one the crash test trains.
    const run = runStore(stack.store, storeKeys.runPrefix(1));
    const keys = (await run.list("models/")).filter((k) => k.endsWith("/weights.bin"));
    return new Map(await Promise.all(keys.map(async (k) => [k, Buffer.from((await run.get(k)) ?? [])] as const)));
  } finally {
    await stack.stop();
  }
}

/**
 * `count` kill points spread over a run: one in each of `count` equal stretches of its writes (all but the last tenth),
 * after a write of `phases[i % phases.length]` in stretch i (any of the phases when that stretch has
 * none), killing 0 to 30 ms after it. The same seed gives the same points.
 */
export function pickKillPoints(sequence: readonly WritePhase[], count: number, seed: number, phases: readonly WritePhase[] = ["round", "aggregation"]): KillPoint[] {
  const rng = seededRandom(seed);
  const seen: Record<WritePhase, number> = { setup: 0, stats: 0, round: 0, aggregation: 0, queue: 0 };
  const writes = sequence.map((phase) => ({ phase, nth: ++seen[phase] }));
  const first = writes.findIndex((w) => phases.includes(w.phase));
  // The last tenth of the writes is left out: a run with kills counts only the writes that succeed
  // (a conditional write a restart repeats is refused and not counted), so its count of a phase can
  // end below the reference's, and a point picked in the very tail might never be reached.
  const span = ((writes.length - first) * 0.9) / count;
  return Array.from({ length: count }, (_, i) => {
    const stretch = writes.slice(first + Math.floor(i * span), first + Math.floor((i + 1) * span));
    const wanted = stretch.filter((w) => w.phase === phases[i % phases.length]);
    const pool = wanted.length > 0 ? wanted : stretch.filter((w) => phases.includes(w.phase));
    return pool[Math.floor(rng() * pool.length)];
  })
    .filter((w): w is { phase: WritePhase; nth: number } => w !== undefined)
    .map((w) => ({ ...w, delayMs: Math.floor(rng() * 30) }));
}
