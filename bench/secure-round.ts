/**
 * @module
 * What secure aggregation costs a whole round: the same federation — synthetic FHIR patients over
 * 20 sites, an MLP whose shared body holds about a million parameters, FedAvg, float32 — run with
 * and without `secureAggregation`, through `consilium simulate`'s production paths (embedded
 * S3/SQS, the coordinator over HTTP, the site runners). Per round: wall time from
 * the round's opening to its close, and the bytes the sites uploaded for it (what the coordinator
 * stored from them: plain updates and manifests, or masked inputs and every key, share, manifest
 * and unmasking message, with each site's identity registration). Runs alternate plain, secure,
 * plain, secure so that drift in the machine's load hits both alike.
 *
 *   npx tsx bench/secure-round.ts
 *   BENCH_SITES=20 BENCH_HIDDEN=1000 BENCH_ROUNDS=2 BENCH_PATIENTS=40000 npx tsx bench/secure-round.ts
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { defaultRecipe } from "../cli/recipes.ts";
import { loadFhirDataset } from "../gpu-runner/data/datasets.ts";
import { simulateOnce, type SimulationPlan } from "../cli/simulate.ts";
import { modelLayout } from "../core/model/layout.ts";
import { parseModelSpec } from "../core/model/model-spec.ts";
import { defaultSiteProfiles } from "../core/fhir/synth-config.ts";
import { Preprocessing } from "../core/schemas/preprocessing.ts";
import { RoundRecord } from "../core/schemas/round.ts";
import { SecureAggregationPolicy } from "../core/schemas/secure-aggregation.ts";
import type { ObjectStore } from "../functions/ports.ts";
import { keys } from "../functions/keys.ts";
import { readJson } from "../functions/repo.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { writeCohort } from "../gpu-runner/data/write-cohort.ts";
import { quietLogger } from "./plan.ts";
import { z } from "zod";

const SITES = Number(process.env.BENCH_SITES ?? 20);
const HIDDEN = Number(process.env.BENCH_HIDDEN ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PATIENTS = Number(process.env.BENCH_PATIENTS ?? 40_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 2);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 0);

/** Seconds from a round's opening: the last update (or masked input) received, the key phases closed, the aggregation started. */
interface Timeline {
  readonly keysShared?: number;
  readonly lastInput: number;
  readonly unmasked?: number;
  readonly aggregating: number;
}

interface Measured {
  readonly roundSeconds: number[];
  readonly timeline: Timeline[];
  readonly bytesUp: number[];
  readonly secure: (RoundRecord["secure"] | undefined)[];
  readonly auroc: number | null;
}

/** Sizes of what the sites uploaded for each round, as the coordinator stored it. */
async function measure(store: ObjectStore, rounds: number): Promise<Omit<Measured, "auroc">> {
  const roundSeconds: number[] = [];
  const timeline: Timeline[] = [];
  const bytesUp: number[] = [];
  const secure: (RoundRecord["secure"] | undefined)[] = [];
  const identities = await store.list(keys.identitiesPrefix);
  let identityBytes = 0;
  for (const k of identities) identityBytes += (await store.get(k))!.byteLength;
  for (let r = 1; r <= rounds; r++) {
    const record = (await readJson(store, keys.round(r), RoundRecord))!;
    roundSeconds.push(((record.closedAt ?? Number.NaN) - record.openedAt) / 1000);
    secure.push(record.secure);
    const prefix = `rounds/${String(r).padStart(6, "0")}/`;
    const since = (t: number | undefined) => ((t ?? Number.NaN) - record.openedAt) / 1000;
    const received: number[] = [];
    for (const k of (await store.list(prefix)).filter((k) => /\/(updates|secure\/masked-input)\/[^/]+\.json$/.test(k))) {
      received.push((await readJson(store, k, z.object({ receivedAt: z.number() })))?.receivedAt ?? Number.NaN);
    }
    const closedAt = async (phase: string) => (await readJson(store, keys.securePhase(r, phase), z.object({ closedAt: z.number() })))?.closedAt;
    timeline.push({
      ...(record.secure && { keysShared: since(await closedAt("share-keys")), unmasked: since(await closedAt("unmasking")) }),
      lastInput: since(Math.max(...received)),
      aggregating: since(record.aggregationStartedAt),
    });
    // From the sites: plain updates and their manifests; or every phase's messages and the masked inputs (not the coordinator's session and phase records).
    const fromSites = (await store.list(prefix)).filter((k) => k.startsWith(`${prefix}updates/`) || /\/secure\/(advertise|share-keys|masked-input|unmasking)\//.test(k));
    let bytes = 0;
    for (const k of fromSites) bytes += (await store.get(k))!.byteLength;
    // The identity is registered once per federation: charged to every round, as if the federation ran only these.
    bytesUp.push(bytes + identityBytes / rounds);
  }
  return { roundSeconds, timeline, bytesUp, secure };
}

const backend = await selectBackend();
const dir = await mkdtemp(join(tmpdir(), "consilium-secure-bench-"));
const load = loadavg()[0]!;
const started = performance.now();
try {
  await writeCohort({ seed: 3, patients: PATIENTS, sites: defaultSiteProfiles(SITES) }, dir);
  const data = await loadFhirDataset({ dir, testFraction: 0.3, seed: 1 });
  const model = `mlp:${HIDDEN},${HIDDEN}`;
  const plan: SimulationPlan = {
    sites: data.sites,
    features: data.features,
    model,
    training: { ...defaultRecipe.training, localSteps: undefined, localEpochs: 1, batchSize: 64, learningRate: 0.05, lrSchedule: "constant", l2: 0, headEpochs: 1 },
    rounds: ROUNDS,
    strategy: "fedavg",
    codec: "float32",
    roundDeadlineSeconds: 3600,
    // One thread for every runner and the coordinator: each site's extra work adds to the round in
    // full, and the two modes schedule alike (with worker threads, staggered starts change how sites
    // interleave, which moved round times by more than secure aggregation costs).
    workers: WORKERS,
  };
  const secure = SecureAggregationPolicy.parse({ phaseSeconds: 120 });
  const run = async (p: SimulationPlan): Promise<Measured> => {
    let measured: Omit<Measured, "auroc"> | null = null;
    let inputs = 0;
    const report = await simulateOnce(p, 1, {
      logger: quietLogger,
      onStack: async (store) => {
        measured = await measure(store, ROUNDS);
        inputs = (await readJson(store, keys.preprocessing, Preprocessing))?.inputs.length ?? 0;
      },
    });
    bodySize ??= modelLayout(parseModelSpec(model), inputs).bodySize;
    return { ...measured!, auroc: report.pooled.global.auroc };
  };
  let bodySize: number | undefined;
  const plain: Measured[] = [];
  const masked: Measured[] = [];
  for (let k = 0; k < REPEATS; k++) {
    plain.push(await run(plan));
    process.stderr.write(`plain ${k + 1}: ${plain.at(-1)!.roundSeconds.map((s) => s.toFixed(2)).join(", ")} s\n`);
    masked.push(await run({ ...plan, secureAggregation: secure }));
    process.stderr.write(`secure ${k + 1}: ${masked.at(-1)!.roundSeconds.map((s) => s.toFixed(2)).join(", ")} s\n`);
  }
  const all = (ms: Measured[], pick: (m: Measured) => number[]) => ms.flatMap(pick);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const [plainSeconds, secureSeconds] = [mean(all(plain, (m) => m.roundSeconds)), mean(all(masked, (m) => m.roundSeconds))];
  const [plainBytes, secureBytes] = [mean(all(plain, (m) => m.bytesUp)), mean(all(masked, (m) => m.bytesUp))];
  const graph = masked[0]!.secure[0];
  const f2 = (x: number) => x.toFixed(2);
  const f3 = (x: number) => x.toFixed(3);
  const mb = (x: number) => (x / 1e6).toFixed(3);
  const lines = [
    `# A whole round with and without secure aggregation (bench/secure-round.ts)`,
    ``,
    `${SITES} sites, synthetic FHIR cohort of ${PATIENTS.toLocaleString("en-US")} patients (seed 3), model ${model} (shared body ${bodySize?.toLocaleString("en-US")} parameters), FedAvg, float32 updates, one local epoch of batches of 64, ${ROUNDS} rounds per run, ${REPEATS} runs of each, alternating; ${WORKERS === 0 ? "every runner and the coordinator on one thread" : `runners on ${WORKERS} worker threads`}; backend ${backend}, ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}; 1-minute load average ${load.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after. Secure: SecAgg+ with ${graph ? `${graph.participants} sites, k ${graph.neighbours}, t ${graph.threshold}` : "?"} (complete graph below 50 sites at the default targets).`,
    ``,
    `| mode | round wall time, each round of each run (s) | mean (s) | upload per round (MB) | pooled AUROC after ${ROUNDS} rounds |`,
    `|---|---|---|---|---|`,
    `| plain | ${all(plain, (m) => m.roundSeconds).map(f2).join(", ")} | ${f2(plainSeconds)} | ${mb(plainBytes)} | ${plain.map((m) => (m.auroc === null ? "—" : f3(m.auroc))).join(", ")} |`,
    `| secure | ${all(masked, (m) => m.roundSeconds).map(f2).join(", ")} | ${f2(secureSeconds)} | ${mb(secureBytes)} | ${masked.map((m) => (m.auroc === null ? "—" : f3(m.auroc))).join(", ")} |`,
    ``,
    `Where each round's time went (seconds from its opening; mean over rounds and runs):`,
    ``,
    `| mode | key phases closed | last update / masked input received | unmasking closed | aggregation started | round closed |`,
    `|---|---|---|---|---|---|`,
    ...([["plain", plain], ["secure", masked]] as const).map(([name, ms]) => {
      const t = ms.flatMap((m) => m.timeline);
      const avg = (pick: (x: Timeline) => number | undefined) => (t.some((x) => pick(x) === undefined) ? "—" : f2(mean(t.map((x) => pick(x)!))));
      return `| ${name} | ${avg((x) => x.keysShared)} | ${avg((x) => x.lastInput)} | ${avg((x) => x.unmasked)} | ${avg((x) => x.aggregating)} | ${f2(mean(all(ms, (m) => m.roundSeconds)))} |`;
    }),
    ``,
    `Secure / plain: round wall time **${f3(secureSeconds / plainSeconds)}×**, upload bytes **${f3(secureBytes / plainBytes)}×** (bench wall ${((performance.now() - started) / 1000).toFixed(0)} s).`,
    ``,
    `Round wall time runs from the round's opening to its close: every site downloads the model, trains, (secure: advertises keys, shares keys, masks), uploads, (secure: answers the unmasking), and the aggregate job publishes the next model. All ${SITES} sites take turns on ${WORKERS === 0 ? "one thread" : `${WORKERS} threads`} here, so every site's masking adds to the round, where on a consortium's own hardware the sites mask in parallel and a round pays one site's masking.`,
  ];
  const text = `${lines.join("\n")}\n`;
  process.stdout.write(text);
  await mkdir("bench/results", { recursive: true });
  await writeFile("bench/results/secure-round.md", text);
  await writeFile("bench/results/secure-round.json", `${JSON.stringify({ plain, secure: masked, ratio: { wall: secureSeconds / plainSeconds, bytes: secureBytes / plainBytes } }, null, 1)}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
