/**
 * @module
 * Asynchronous against synchronous rounds with one slow hospital (issue: hospitals differ; one
 * computes behind a slow CPU). A synthetic FHIR consortium (`consilium synth`), one site's compute
 * ten times slower than the others (`--site-speed 1:10x`), FedAvg on a small MLP:
 *
 * - sync: every round waits for every site, the slow one included;
 * - async: buffered asynchronous rounds (FedBuff), a server step every `sites − 1` updates, the slow
 *   site's updates counted late with staleness weights (polynomial, a = 0.5).
 *
 * Both in one run, on the same machine. Every model version either run publishes is scored here on
 * every site's held-out rows (pooled AUROC of the global model, the slow site's patients
 * included). The target is the synchronous run's final model's AUROC less 0.005; each mode's time
 * to target is the time from round 1's opening to the close of the first round whose model
 * reaches it. Printed: both times and their ratio, both final AUROCs.
 * BENCH_PATIENTS, BENCH_SITES, BENCH_ROUNDS (sync), BENCH_ASYNC_ROUNDS change the size.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { AsyncPolicy } from "../core/async/async-policy.ts";
import type { RunReport } from "../core/schemas/report.ts";
import { defaultRecipe } from "../cli/recipes.ts";
import { loadFhirDataset } from "../gpu-runner/data/datasets.ts";
import { simulateOnce, type SimulationPlan } from "../cli/simulate.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { writeCohort } from "../gpu-runner/data/write-cohort.ts";
import { defaultSiteProfiles } from "../core/fhir/synth-config.ts";
import { parseSiteSpeeds } from "../gpu-runner/simulation/site-speed.ts";
import { quietLogger } from "./plan.ts";
import type { ObjectStore } from "../functions/ports.ts";
import type { CoordinatorDeps } from "../functions/deps.ts";
import { keys } from "../functions/keys.ts";
import { readJson } from "../functions/repo.ts";
import { loadModel } from "../functions/use-cases/models.ts";
import { Preprocessing } from "../core/schemas/preprocessing.ts";
import { FederationConfig } from "../core/schemas/federation.ts";
import { modelLayout, outputCount } from "../core/model/layout.ts";
import { applyPreprocessing } from "../core/preprocess/transform.ts";
import { scoreRows } from "../gpu-runner/model/score-rows.ts";
import { clinicalMetrics, countPredictions, mergeCounts } from "../core/metrics/index.ts";
import type { SiteData } from "../gpu-runner/data/builtin-datasets.ts";

const SITES = Number(process.env.BENCH_SITES ?? 4);
const PATIENTS = Number(process.env.BENCH_PATIENTS ?? 48_000);
const SYNC_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const ASYNC_ROUNDS = Number(process.env.BENCH_ASYNC_ROUNDS ?? 60);
const SLOW = "1:10x";
const TOLERANCE = 0.005;

const backend = await selectBackend();
const dir = await mkdtemp(join(tmpdir(), "consilium-async-bench-"));
try {
  await writeCohort({ seed: 3, patients: PATIENTS, sites: defaultSiteProfiles(SITES) }, dir);
  const data = await loadFhirDataset({ dir, testFraction: 0.3, seed: 1 });
  const base: SimulationPlan = {
    sites: data.sites,
    features: data.features,
    model: "mlp:32",
    training: { ...defaultRecipe.training, localSteps: undefined, localEpochs: 1, batchSize: 32, learningRate: 0.05, lrSchedule: "constant", l2: 0 },
    rounds: SYNC_ROUNDS,
    strategy: "fedavg",
    codec: "float32",
    roundDeadlineSeconds: 600,
    workers: availableParallelism(),
    speeds: parseSiteSpeeds(SLOW, SITES),
  };
  const policy = AsyncPolicy.parse({ bufferSize: SITES - 1, maxStaleness: 20 });
  const run = async (plan: SimulationPlan) => {
    let scored: Map<number, number> = new Map();
    const report = await simulateOnce(plan, 1, { logger: quietLogger, onStack: async (store) => void (scored = await scoreVersions(store, data.sites)) });
    // The AUROC each round's model reaches on every site's held-out rows.
    return { report, rounds: report.rounds.map((r) => ({ ...r, auroc: scored.get(r.round) ?? null })), final: scored.get(Math.max(...scored.keys())) ?? Number.NaN };
  };
  const syncRun = await run(base);
  process.stderr.write(`sync done: ${syncRun.report.wallSeconds.toFixed(1)} s\n`);
  const asyncRun = await run({ ...base, rounds: ASYNC_ROUNDS, async: policy });
  process.stderr.write(`async done: ${asyncRun.report.wallSeconds.toFixed(1)} s\n`);
  const [sync, async] = [{ ...syncRun.report, rounds: syncRun.rounds }, { ...asyncRun.report, rounds: asyncRun.rounds }];

  const finals = new Map([[sync, syncRun.final], [async, asyncRun.final]]);
  const finalOf = (r: RunReport) => finals.get(r) ?? Number.NaN;
  const target = finalOf(sync) - TOLERANCE;
  const reach = (r: RunReport) => r.rounds.find((x) => x.auroc !== null && x.auroc >= target && x.closedAt !== undefined);
  const lastClose = (r: RunReport) => Math.max(...r.rounds.map((x) => x.closedAt ?? 0));
  const [syncAt, asyncAt] = [reach(sync), reach(async)];
  const ratio = syncAt && asyncAt ? (asyncAt.closedAt ?? Number.NaN) / (syncAt.closedAt ?? Number.NaN) : Number.NaN;
  const ratioToEnd = asyncAt ? (asyncAt.closedAt ?? Number.NaN) / lastClose(sync) : Number.NaN;
  const stale = async.rounds.reduce((n, x) => n + (x.stale ?? 0), 0);
  const f3 = (x: number | undefined | null) => (x === undefined || x === null ? "—" : x.toFixed(3));
  const f4 = (x: number | undefined | null) => (x === undefined || x === null ? "—" : x.toFixed(4));
  const lines = [
    `# Asynchronous rounds with one slow site (bench/async.ts)`,
    ``,
    `Synthetic FHIR consortium, ${PATIENTS.toLocaleString("en-US")} patients over ${SITES} sites (seed 3), site 1 computing 10× slower (\`--site-speed ${SLOW}\`), FedAvg, mlp:32, one local epoch per round, backend ${backend}, ${availableParallelism()} cores.`,
    `Target: the synchronous run's final pooled AUROC − ${TOLERANCE} = ${f4(target)}. Times from round 1's opening to the close of the first round whose model reaches it.`,
    ``,
    `| mode | rounds | final pooled AUROC | round reaching target | time to target (s) | time to last round (s) | stale updates |`,
    `|---|---|---|---|---|---|---|`,
    `| sync | ${SYNC_ROUNDS} | ${f4(finalOf(sync))} | ${syncAt?.round ?? "never"} | ${f3(syncAt?.closedAt)} | ${f3(lastClose(sync))} | — |`,
    `| async (buffer ${policy.bufferSize}, staleness ≤ ${policy.maxStaleness}) | ${ASYNC_ROUNDS} | ${f4(finalOf(async))} | ${asyncAt?.round ?? "never"} | ${f3(asyncAt?.closedAt)} | ${f3(lastClose(async))} | ${stale} |`,
    ``,
    `Time to target, async / sync: **${f3(ratio)}×** (async's time to target over the whole synchronous run: ${f3(ratioToEnd)}×). Final AUROC, async − sync: ${f4(finalOf(async) - finalOf(sync))}.`,
  ];
  const text = `${lines.join("\n")}\n`;
  process.stdout.write(text);
  await mkdir("bench/results", { recursive: true });
  await writeFile("bench/results/async.md", text);
  await writeFile("bench/results/async.json", `${JSON.stringify({ sync: sync.rounds, async: async.rounds, target, ratio, ratioToEnd }, null, 1)}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** Pooled AUROC of every model version in the store (the global model, no personal head) on every site's held-out rows. */
async function scoreVersions(store: ObjectStore, sites: readonly SiteData[]): Promise<Map<number, number>> {
  const deps = { store } as CoordinatorDeps;
  const prep = await readJson(store, keys.preprocessing, Preprocessing);
  const config = await readJson(store, keys.federation, FederationConfig);
  if (!prep || !config) throw new Error("no federation in the store");
  const layout = modelLayout(config.model, prep.inputs.length, outputCount(prep.label));
  const tests = sites.map((s) => applyPreprocessing(s.test, prep));
  const scored = new Map<number, number>();
  for (let v = 1; (await store.head(keys.modelManifest(v))) !== null; v++) {
    const body = await loadModel(deps, v);
    const counts = tests.map((t) => countPredictions(scoreRows(layout, body, null, t), t.y));
    scored.set(v, clinicalMetrics(mergeCounts(counts)).auroc ?? Number.NaN);
  }
  return scored;
}
