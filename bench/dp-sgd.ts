/**
 * @module
 * DP-SGD's training throughput against non-private training of the same model on the same rows
 * (wdbc's training split, 30 inputs): `trainBody` and `dpSgd` run the same number of steps at the
 * same batch size (DP-SGD's expected batch q·n equals it), alternating, and the median of the
 * repeats counts. DP-SGD draws its noise and its batches from the CSPRNG (`secure-noise.ts`);
 * "DP, σ = 0" is the same without noise draws, to show what the noise costs.
 *
 *   npx tsx bench/dp-sgd.ts
 *   BENCH_STEPS=100 BENCH_BATCHES=16 BENCH_REPEATS=3 BENCH_BACKEND=cpu npx tsx bench/dp-sgd.ts
 */
import { examplesVisited } from "./plan.ts";
import { mkdir, writeFile } from "node:fs/promises";
import { loadBuiltin } from "../gpu-runner/data/datasets.ts";
import { initBody } from "../core/model/init-params.ts";
import { seededRandom } from "../core/random.ts";
import { modelLayout } from "../core/model/layout.ts";
import { parseModelSpec } from "../core/model/model-spec.ts";
import { mergeSiteStats } from "../core/preprocess/merge-stats.ts";
import { computeSiteStats } from "../core/preprocess/site-stats.ts";
import { applyPreprocessing } from "../core/preprocess/transform.ts";
import { selectBackend, type BackendName } from "../gpu-runner/model/backend.ts";
import { dpSgd } from "../gpu-runner/privacy/dp-sgd.ts";
import { secureNormal, secureUniform } from "../gpu-runner/privacy/secure-noise.ts";
import { trainBody, type TrainOptions } from "../gpu-runner/training/train.ts";

const steps = Number(process.env.BENCH_STEPS ?? 200);
const repeats = Math.max(1, Number(process.env.BENCH_REPEATS ?? 3));
const batches = (process.env.BENCH_BATCHES ?? "16,64").split(",").map(Number);
const models = (process.env.BENCH_MODELS ?? "logreg,mlp:64,mlp:1024,96").split(/,(?=[a-z])/);
const CLIP = 1;
const SIGMA = 1.1;

const backend = await selectBackend(process.env.BENCH_BACKEND as BackendName | undefined);
const loaded = await loadBuiltin("wdbc", { sites: 1, split: "iid", testFraction: 0.2, seed: 1 });
const site = loaded.sites[0];
if (!site) throw new Error("wdbc loaded without a site");
const data = applyPreprocessing(site.train, mergeSiteStats([computeSiteStats(site.train, loaded.features)], loaded.features));


const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

function seconds(run: () => void): number {
  const t0 = performance.now();
  run();
  return (performance.now() - t0) / 1000;
}

let out = `backend ${backend}; wdbc training split (${data.rows} rows × ${data.dim} inputs); ${steps} steps per run, median of ${repeats}; DP-SGD with C = ${CLIP}, σ = ${SIGMA}, q = batch / rows, noise and sampling from node:crypto\n\n`;
out += "| model | parameters | batch | non-private examples/s | DP-SGD examples/s | ratio DP / non-private | DP, σ = 0 examples/s |\n|---|---|---|---|---|---|---|\n";
for (const model of models) {
  const layout = modelLayout(parseModelSpec(model), data.dim);
  const body = initBody(layout, seededRandom(1));
  for (const batch of batches) {
    const opts: TrainOptions = { epochs: 1, steps, batchSize: batch, learningRate: 0.3, l2: 0.01, rng: seededRandom(2) };
    const dp = { clip: CLIP, noiseMultiplier: SIGMA, sampleRate: Math.min(1, batch / data.rows), noise: secureNormal, uniform: secureUniform };
    const runs = {
      plain: () => trainBody(layout, body, data, opts),
      dp: () => dpSgd(layout, body, data, { ...opts, dp }),
      quiet: () => dpSgd(layout, body, data, { ...opts, dp: { ...dp, noiseMultiplier: 0 } }),
    };
    for (const run of Object.values(runs)) run();
    const times = { plain: [] as number[], dp: [] as number[], quiet: [] as number[] };
    for (let r = 0; r < repeats; r++) for (const [name, run] of Object.entries(runs)) times[name as keyof typeof runs].push(seconds(run));
    const plain = examplesVisited(data.rows, batch, steps) / median(times.plain);
    // DP-SGD's batches are q·n = batch rows on average.
    const private_ = (steps * dp.sampleRate * data.rows) / median(times.dp);
    const quiet = (steps * dp.sampleRate * data.rows) / median(times.quiet);
    const line = `| ${model} | ${layout.bodySize} | ${batch} | ${Math.round(plain)} | ${Math.round(private_)} | ${(private_ / plain).toFixed(2)} | ${Math.round(quiet)} |\n`;
    process.stderr.write(line);
    out += line;
  }
}
process.stdout.write(out);
await mkdir("bench/results", { recursive: true });
await writeFile("bench/results/dp-sgd.md", out);
