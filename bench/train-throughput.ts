/**
 * @module
 * Local training's throughput, today's layers against tfjs's own (the baseline), alternately in
 * one run on the same rows: `trainBody` on wdbc's training split (30 inputs) for logreg, mlp:64
 * and mlp:1024,96, and on the digits (8×8 images, 10 classes) for the CNN cnn:8x8x1:8,16:64, at
 * batch 16 and 64, the same number of steps each way, the median of the repeats counting. tfjs's
 * own convolution cannot train on tfjs-backend-wasm (it has no Conv2DBackpropFilter kernel): the
 * CNN's baseline is then measured, with Consilium's ops beside it, on the cpu backend as well. The baseline is `TFJS_OPS`, tfjs's own layers and loss under its autograd
 * (whose gradients take the backend's transposed products); `FAST_OPS`, what training uses, fuses
 * each forward product with its bias and ReLU, takes its gradients from products of operands
 * transposed first, and writes out the loss's gradient. For logreg a
 * plain Float32Array loop of the same minibatch SGD is the ceiling: what the per-step cost of
 * dispatching tfjs operations leaves on the table.
 *
 *   npm run bench:train
 *   BENCH_STEPS=100 BENCH_REPEATS=3 BENCH_BACKEND=cpu npm run bench:train
 */
import { examplesVisited } from "./plan.ts";
import { mkdir, writeFile } from "node:fs/promises";
import { initBody } from "../core/model/init-params.ts";
import { modelLayout } from "../core/model/layout.ts";
import { parseModelSpec } from "../core/model/model-spec.ts";
import { mergeSiteStats } from "../core/preprocess/merge-stats.ts";
import { computeSiteStats } from "../core/preprocess/site-stats.ts";
import { applyPreprocessing, type Dataset } from "../core/preprocess/transform.ts";
import { seededRandom } from "../core/random.ts";
import { loadBuiltin } from "../gpu-runner/data/datasets.ts";
import { selectBackend, type BackendName } from "../gpu-runner/model/backend.ts";
import { TFJS_OPS, trainBody, type TrainOptions } from "../gpu-runner/training/train.ts";

const steps = Number(process.env.BENCH_STEPS ?? 200);
const repeats = Math.max(1, Number(process.env.BENCH_REPEATS ?? 3));
const batches = (process.env.BENCH_BATCHES ?? "16,64").split(",").map(Number);
const models = (process.env.BENCH_MODELS ?? "logreg,mlp:64,mlp:1024,96,cnn:8x8x1:8,16:64").split(/,(?=[a-z])/);

const backend = await selectBackend(process.env.BENCH_BACKEND as BackendName | undefined);
const loaded = await loadBuiltin("wdbc", { sites: 1, split: "iid", testFraction: 0.2, seed: 1 });
const site = loaded.sites[0];
if (!site) throw new Error("wdbc loaded without a site");
const data = applyPreprocessing(site.train, mergeSiteStats([computeSiteStats(site.train, loaded.features)], loaded.features));
const digitsLoaded = await loadBuiltin("digits", { sites: 1, split: "iid", testFraction: 0.2, seed: 1 });
const digitsTrain = digitsLoaded.sites[0]!.train;
const digits = applyPreprocessing(digitsTrain, mergeSiteStats([computeSiteStats(digitsTrain, digitsLoaded.features)], digitsLoaded.features));


/** The same minibatch SGD for logreg (cross-entropy, L2 on the kernel) in plain Float32Array loops. */
function plainLogreg(d: Dataset, start: Float32Array, o: TrainOptions): Float32Array {
  const w = Float32Array.from(start);
  const g = new Float32Array(d.dim + 1);
  const order = Int32Array.from({ length: d.rows }, (_, i) => i);
  let at = d.rows;
  for (let step = 0; step < (o.steps ?? 0); step++) {
    if (at >= d.rows) {
      for (let i = d.rows - 1; i > 0; i--) {
        const j = Math.floor(o.rng() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      at = 0;
    }
    const end = Math.min(d.rows, at + o.batchSize);
    g.fill(0);
    for (let k = at; k < end; k++) {
      const r = order[k]!;
      let z = w[d.dim]!;
      for (let j = 0; j < d.dim; j++) z += w[j]! * d.x[r * d.dim + j]!;
      const e = 1 / (1 + Math.exp(-z)) - d.y[r]!;
      for (let j = 0; j < d.dim; j++) g[j]! += e * d.x[r * d.dim + j]!;
      g[d.dim]! += e;
    }
    const n = end - at;
    for (let j = 0; j < d.dim; j++) w[j]! -= o.learningRate * (g[j]! / n + o.l2 * w[j]!);
    w[d.dim]! -= (o.learningRate * g[d.dim]!) / n;
    at = end;
  }
  return w;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
function seconds(run: () => unknown): number {
  const t0 = performance.now();
  run();
  return (performance.now() - t0) / 1000;
}

let out = `backend ${backend}; wdbc training split (${data.rows} rows × ${data.dim} inputs), digits training split (${digits.rows} rows × ${digits.dim} inputs, 10 classes) for the CNN; ${steps} steps per run, median of ${repeats}, the two ways alternating\n\n`;
out += "| model | backend | parameters | batch | steps | tfjs's ops (baseline) examples/s | Consilium's ops examples/s | speed-up | loss, baseline / now | plain Float32Array loop (ceiling) examples/s |\n|---|---|---|---|---|---|---|---|---|---|\n";

/** One model at one batch size on the current backend: the baseline (null where tfjs's own cannot train), Consilium's, and the ceiling for logreg. */
function measure(model: string, on: string, batch: number): string {
  const rows = model.startsWith("cnn") ? digits : data;
  const layout = modelLayout(parseModelSpec(model), rows.dim, model.startsWith("cnn") ? 10 : 1);
  const body = initBody(layout, seededRandom(1));
  // tfjs's own convolution on the cpu backend trains at a few hundred examples a second: a quarter of the steps there.
  const n = model.startsWith("cnn") && on === "cpu" ? Math.max(10, Math.round(steps / 4)) : steps;
  const opts = (): TrainOptions => ({ epochs: 1, steps: n, batchSize: batch, learningRate: 0.3, l2: 0.01, rng: seededRandom(2) });
  let baseline: (() => { loss: number }) | null = () => trainBody(layout, body, rows, { ...opts(), ops: TFJS_OPS });
  const now = () => trainBody(layout, body, rows, opts());
  const plain = model === "logreg" ? () => plainLogreg(rows, body, opts()) : null;
  // Warm: the first run of each pays the backend's one-off costs (kernels compiled, memory touched).
  let baseLoss: number | null = null;
  try {
    baseLoss = baseline().loss;
  } catch {
    baseline = null;
  }
  const nowLoss = now().loss;
  plain?.();
  const times: Record<string, number[]> = { baseline: [], now: [], plain: [] };
  for (let r = 0; r < repeats; r++) {
    if (baseline) times.baseline!.push(seconds(baseline));
    times.now!.push(seconds(now));
    if (plain) times.plain!.push(seconds(plain));
  }
  const visited = examplesVisited(rows.rows, batch, n);
  const rate = (name: string) => visited / median(times[name]!);
  const base = baseline ? String(Math.round(rate("baseline"))) : "cannot train (no Conv2DBackpropFilter)";
  const ratio = baseline ? `${(rate("now") / rate("baseline")).toFixed(2)}×` : "—";
  const losses = `${baseLoss === null ? "—" : baseLoss.toFixed(4)} / ${nowLoss.toFixed(4)}`;
  return `| ${model} | ${on} | ${layout.bodySize} | ${batch} | ${n} | ${base} | ${Math.round(rate("now"))} | ${ratio} | ${losses} | ${plain ? Math.round(rate("plain")) : "—"} |\n`;
}

for (const model of models) {
  // The CNN on the cpu backend too, where tfjs's own convolution has every gradient.
  const backends = model.startsWith("cnn") && backend !== "cpu" ? [backend, "cpu"] : [backend];
  for (const on of backends) {
    await selectBackend(on as BackendName);
    for (const batch of batches) {
      const line = measure(model, on, batch);
      process.stderr.write(line);
      out += line;
    }
  }
  await selectBackend(backend);
}
process.stdout.write(out);
await mkdir("bench/results", { recursive: true });
await writeFile("bench/results/train-throughput.md", out);
