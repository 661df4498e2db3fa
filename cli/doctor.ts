/**
 * @module
 * What `consilium doctor` checks on a hospital's machine before it joins a consortium: Node.js,
 * each TensorFlow.js backend (whether it loads, why not, and how fast it trains here), the
 * coordinator with the site's credential (reachable, which credential, its expiry, the clocks'
 * skew), the state folder (writable, private) and the free disk. Each finding is `ok`, `warn` or
 * `fail`, with the remedy for anything short of ok.
 */
import { existsSync } from "node:fs";
import { access, constants, mkdir, rm, stat, statfs, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { CoordinatorClient } from "../client/coordinator-client.ts";
import { initBody } from "../core/model/init-params.ts";
import { modelLayout } from "../core/model/layout.ts";
import { parseModelSpec } from "../core/model/model-spec.ts";
import { seededRandom } from "../core/random.ts";
import type { Dataset } from "../core/preprocess/transform.ts";
import { BackendName, tryBackend } from "../gpu-runner/model/backend.ts";
import { trainBody } from "../gpu-runner/training/train.ts";

export type Verdict = "ok" | "warn" | "fail" | "skipped";

export interface Finding {
  readonly check: string;
  readonly verdict: Verdict;
  readonly detail: string;
  /** What to do about it: set for every verdict but ok. */
  readonly remedy?: string;
  /** Measured training throughput (examples per second), for a backend that loaded. */
  readonly examplesPerSecond?: number;
}

const ok = (check: string, detail: string, extra: Partial<Finding> = {}): Finding => ({ check, verdict: "ok", detail, ...extra });
const bad = (verdict: "warn" | "fail" | "skipped", check: string, detail: string, remedy: string): Finding => ({ check, verdict, detail, remedy });

/** Node.js: what the package's `engines` asks (20.19 or later), and 22 for support. */
export function checkNode(version: string = process.versions.node): Finding {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  if (major < 20 || (major === 20 && minor < 19)) return bad("fail", "node", `Node.js ${version}`, "install Node.js 22 LTS (Consilium needs 20.19 or later)");
  if (major === 20) return bad("warn", "node", `Node.js ${version} works, but Node.js 20 reached its end of life on 30 April 2026 (no more security fixes)`, "install Node.js 22 LTS");
  return ok("node", `Node.js ${version}`);
}

/** Why a backend did not load, said for a hospital's IT team, with what to do. */
export function explainBackend(name: BackendName, error: string, hasNvidiaDevice: boolean): { detail: string; remedy: string } {
  const first = error.split("\n")[0] ?? error;
  const pkg = `@tensorflow/${name}`;
  if (/Cannot find (package|module) '@tensorflow\/tfjs-node/.test(error) || /ERR_MODULE_NOT_FOUND/.test(error)) {
    return {
      detail: `${pkg} is not installed (an optional dependency: its install downloads libtensorflow from storage.googleapis.com, which failed or was not allowed here)${name === "tfjs-node-gpu" && !hasNvidiaDevice ? "; no NVIDIA device is visible on this machine (/dev/nvidia0)" : ""}`,
      remedy: `npm install ${pkg}@4.22.0 on a network that reaches storage.googleapis.com${name === "tfjs-node-gpu" ? ", on a machine with an NVIDIA GPU, its driver (450 or later), CUDA 11.2 and cuDNN 8.1" : ""}; the runner uses the fastest backend present`,
    };
  }
  if (name === "tfjs-node-gpu" && /libcud|libcublas|libcufft|libcurand|libcusolver|libcusparse|CUDA/i.test(error)) {
    return {
      detail: `${pkg} is installed but the CUDA libraries it links are missing: ${first}${hasNvidiaDevice ? "" : "; no NVIDIA device is visible on this machine"}`,
      remedy: "install the NVIDIA driver (450 or later), CUDA 11.2 and cuDNN 8.1, and put their lib64 folders on LD_LIBRARY_PATH",
    };
  }
  if (/libtensorflow/.test(error)) {
    return { detail: `${pkg} is installed without its native library: ${first}`, remedy: `npm rebuild ${pkg} on a network that reaches storage.googleapis.com` };
  }
  return { detail: `${pkg} does not load: ${first}`, remedy: "run with --backend wasm or cpu, or reinstall the package" };
}

/** Rows to train on: 30 standard-uniform inputs, labels from a fixed linear rule (what the clinical datasets' width looks like). */
function benchRows(rows: number): Dataset {
  const rng = seededRandom(7);
  const dim = 30;
  const x = Float32Array.from({ length: rows * dim }, () => 2 * rng() - 1);
  const y = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) y[r] = (x[r * dim] ?? 0) + (x[r * dim + 1] ?? 0) > 0 ? 1 : 0;
  return { x, y, rows, dim };
}

/** Examples per second of `mlp:64` at batch 64 on this backend, over about `seconds`. */
function throughput(seconds: number): number {
  const data = benchRows(2048);
  const layout = modelLayout(parseModelSpec("mlp:64"), data.dim);
  const body = initBody(layout, seededRandom(1));
  const opts = { epochs: 1, steps: 8, batchSize: 64, learningRate: 0.1, l2: 0, rng: seededRandom(2) };
  trainBody(layout, body, data, opts); // warm: kernels compiled, memory touched
  let examples = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    trainBody(layout, body, data, opts);
    examples += opts.steps * opts.batchSize;
  }
  return examples / ((performance.now() - started) / 1000);
}

/** Each backend in the runner's order: loaded or why not, and, when it loads, its training throughput. */
export async function checkBackends(seconds: number, load: (name: BackendName) => Promise<string | null> = tryBackend): Promise<Finding[]> {
  const findings: Finding[] = [];
  const nvidia = existsSync("/dev/nvidia0");
  for (const name of BackendName) {
    const check = `backend ${name}`;
    const failure = await load(name);
    if (failure !== null) {
      const { detail, remedy } = explainBackend(name, failure, nvidia);
      // The native backends are optional: a site trains without them, only slower.
      findings.push(bad(name === "cpu" || name === "wasm" ? "fail" : "warn", check, detail, remedy));
      continue;
    }
    if (name === "tfjs-node" && findings.some((f) => f.check === "backend tfjs-node-gpu" && f.verdict === "ok")) {
      // Both native packages register one backend, "tensorflow": loaded here, it is tfjs-node-gpu's, measured above.
      findings.push(ok(check, "loads; the same native backend as tfjs-node-gpu's, measured above"));
      continue;
    }
    const rate = throughput(seconds);
    const note = name === "wasm" ? "; one thread per process in Node.js (consilium simulate --workers trains sites in parallel)" : "";
    findings.push(ok(check, `loads; trains mlp:64 at ${Math.round(rate).toLocaleString("en-US")} examples/s (batch 64, ${seconds} s)${note}`, { examplesPerSecond: rate }));
  }
  return findings;
}

/**
 * Clock skew worth a warning: the runner's own log and the coordinator's audit trail then disagree
 * on when things happened (the coordinator signs the store's URLs and keeps every deadline on its
 * own clock, so training is not affected). Past a day, TLS certificates may be judged not yet valid
 * or expired, and HTTPS to the coordinator fails.
 */
const SKEW_WARN_MS = 30_000;
const SKEW_FAIL_MS = 86_400_000;
const EXPIRY_WARN_MS = 14 * 86_400_000;

/** The coordinator with the site's credential: reachable, which credential, its expiry, and the skew between the clocks. */
export async function checkCoordinator(url: string | undefined, token: string | undefined, fetchFn: typeof fetch = fetch, now: () => number = Date.now, patienceMs = 5_000): Promise<Finding[]> {
  if (url === undefined || token === undefined) {
    return [bad("skipped", "coordinator", "not checked", "give --coordinator URL and the site's credential in CONSILIUM_SITE_TOKEN")];
  }
  const client = new CoordinatorClient(url, token, fetchFn, { policy: { patienceMs, firstPauseMs: 100, maxPauseMs: 1_000 } });
  const before = now();
  let answer;
  try {
    answer = await client.credential();
  } catch (err) {
    const code = (err as { code?: string }).code;
    const message = err instanceof Error ? err.message : String(err);
    if (code === "BAD_CREDENTIAL" || code === "UNAUTHENTICATED") return [bad("fail", "coordinator", `${url} refused the credential: ${message}`, "check CONSILIUM_SITE_TOKEN against what consilium enrol printed")];
    if (code === "CREDENTIAL_ROTATED") return [bad("fail", "coordinator", `${url}: ${message}`, "use the newer credential that consilium sites rotate printed (ask the consortium's operator)")];
    if (code?.startsWith("CREDENTIAL_")) return [bad("fail", "coordinator", `${url}: ${message}`, "ask the consortium's operator for a new credential (consilium sites rotate ID)")];
    if (code === "COORDINATOR_UNREACHABLE") return [bad("fail", "coordinator", `cannot reach ${url}: ${message}`, "open outbound HTTPS to the coordinator's URL and to the consortium's S3 bucket in the firewall, or check the URL")];
    return [bad("fail", "coordinator", `${url} answered, but not as a coordinator that checks credentials: ${message}`, "check the URL (the coordinator's, without a path) and that the coordinator runs this version of Consilium or later")];
  }
  const after = now();
  const skew = answer.now - (before + after) / 2;
  const findings: Finding[] = [ok("coordinator", `${url} answers; the credential is site ${answer.siteId} (${answer.name}), generation ${answer.generation}`)];
  if (answer.expiresAt === null) findings.push(ok("credential expiry", "does not expire"));
  else {
    const left = answer.expiresAt - answer.now;
    const when = `${new Date(answer.expiresAt).toISOString()} (${(left / 86_400_000).toFixed(1)} days)`;
    findings.push(left < EXPIRY_WARN_MS ? bad("warn", "credential expiry", `expires ${when}`, `ask the consortium's operator to rotate it (consilium sites rotate ${answer.siteId})`) : ok("credential expiry", `expires ${when}`));
  }
  const skewText = `this machine's clock is ${(Math.abs(skew) / 1000).toFixed(1)} s ${skew > 0 ? "behind" : "ahead of"} the coordinator's (±${((after - before) / 2000).toFixed(1)} s)`;
  const absSkew = Math.abs(skew);
  const sync = "synchronise the clock (NTP: timedatectl set-ntp true)";
  findings.push(
    absSkew > SKEW_FAIL_MS ? bad("fail", "clock", `${skewText}: HTTPS certificates may be judged not yet valid or expired`, sync)
      : absSkew > SKEW_WARN_MS ? bad("warn", "clock", `${skewText}: this site's log and the coordinator's audit trail will disagree on times`, sync)
        : ok("clock", skewText),
  );
  return findings;
}

/** The nearest folder of `path` that exists (itself, or an ancestor). */
async function nearestExisting(path: string): Promise<string> {
  let at = resolve(path);
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  return at;
}

/** The state folder: a folder, writable by the runner, readable by nobody else; else where it would be created. */
export async function checkStateDir(dir: string): Promise<Finding> {
  const path = resolve(dir);
  if (!existsSync(path)) {
    const parent = await nearestExisting(path);
    const writable = await access(parent, constants.W_OK).then(() => true, () => false);
    return writable
      ? ok("state folder", `${path} does not exist yet; the runner will create it (owner-only) under ${parent}`)
      : bad("fail", "state folder", `${path} does not exist and ${parent} is not writable by this user`, `create ${path} for the runner's user (mkdir -p, chmod 700) or give another --state-dir`);
  }
  const info = await stat(path);
  if (!info.isDirectory()) return bad("fail", "state folder", `${path} is not a folder`, "give --state-dir a folder");
  const probe = join(path, `.doctor-${process.pid}`);
  const writable = await mkdir(path, { recursive: true }).then(() => writeFile(probe, "")).then(() => rm(probe).then(() => true), () => false);
  if (!writable) return bad("fail", "state folder", `${path} is not writable by this user`, `give the runner's user the folder (chown) or another --state-dir`);
  const others = info.mode & 0o077;
  if (others !== 0) {
    return bad("warn", "state folder", `${path} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); it holds the personal model and the secure-aggregation key`, `chmod 700 ${path}`);
  }
  return ok("state folder", `${path} is writable and private (mode ${(info.mode & 0o777).toString(8)})`);
}

const GiB = 2 ** 30;

/** Free space where the state folder lives: models and updates are written there and to a temporary folder. */
export async function checkDisk(dir: string, free?: (path: string) => Promise<number>): Promise<Finding> {
  const at = await nearestExisting(dir);
  const bytes = free ? await free(at) : await statfs(at).then((s) => s.bavail * s.bsize);
  const detail = `${(bytes / GiB).toFixed(1)} GiB free at ${at}`;
  if (bytes < 0.1 * GiB) return bad("fail", "disk", detail, "free some space: a model and its updates need a few hundred MB at most, the data's own files aside");
  if (bytes < GiB) return bad("warn", "disk", detail, "free some space: under 1 GiB leaves little room for models of a few million parameters");
  return ok("disk", detail);
}
