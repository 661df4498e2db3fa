/**
 * @module
 * What `npm start` costs: the whole heart-disease federation end to end (embedded S3/SQS,
 * coordinator over HTTP, four runners, every round, baselines and evaluation), beside the
 * centralized training of the same schedule on the same rows, measured alternately in one run.
 */
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { trainCentralized } from "../gpu-runner/training/centralized.ts";
import { specOf } from "../core/model/model-spec.ts";
import { simulateOnce } from "../cli/simulate.ts";
import { builtinPlan, quietLogger } from "./plan.ts";

const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const backend = await selectBackend();
const plan = await builtinPlan("heart-disease", 1);
const fed: number[] = [];
const oneThread: number[] = [];
const cent: number[] = [];
for (let i = 0; i < repeats; i++) {
  let t = performance.now();
  await simulateOnce(plan, 1 + i, { logger: quietLogger });
  fed.push((performance.now() - t) / 1000);
  t = performance.now();
  await simulateOnce({ ...plan, workers: 0 }, 1 + i, { logger: quietLogger });
  oneThread.push((performance.now() - t) / 1000);
  t = performance.now();
  trainCentralized({ sites: plan.sites, features: plan.features, model: specOf(plan.model), training: plan.training, rounds: plan.rounds, seed: 1 + i });
  cent.push((performance.now() - t) / 1000);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const [f, o, c] = [median(fed), median(oneThread), median(cent)];
process.stdout.write(`backend ${backend}; ${plan.rounds} rounds × ${plan.training.localSteps ?? plan.training.localEpochs} local steps; ${plan.workers} runner threads; median of ${repeats}\n\n`);
process.stdout.write(
  [
    "| run | seconds | ratio to centralized |",
    "|---|---|---|",
    `| federated end to end, runners in ${plan.workers} worker threads (the \`npm start\` path) | ${f.toFixed(2)} | ${(f / c).toFixed(1)}× |`,
    `| federated end to end, runners in the main thread | ${o.toFixed(2)} | ${(o / c).toFixed(1)}× |`,
    `| centralized training of the same schedule on the same rows | ${c.toFixed(2)} | 1.0× |`,
    "",
  ].join("\n"),
);
