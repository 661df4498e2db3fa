/**
 * @module
 * The deployed coordinator, measured in the Lambda harness (test/support/lambda/): each function's
 * bundle as `npm run build:lambda` builds it (SST's esbuild settings), its cold start (process up,
 * bundle loaded) beside the same handler loaded from its TypeScript sources with tsx (what
 * bundling buys), its first and warm invocations and its peak memory against the memory
 * `infra/functions.ts` gives it, over the heart-disease federation run through the bundles, and
 * that federation's wall time beside the in-process coordinator's, alternately in one run; what
 * each round costs in invocations, GB-seconds and S3 requests, and which bucket areas each function
 * wrote (through the harness's IAM proxies); and one round of a 4-million-parameter model at eight
 * sites, streamed and decoded, for the aggregate job's memory; and the same hospitals in two regions,
 * every stage's functions and each region's relay through the bundles, beside the tiers in process.
 *
 * `BENCH_REPEATS` (default 3) federations each way; `BENCH_COLD` (default 7) cold starts each way.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { simulateOnce } from "../cli/simulate.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { FUNCTIONS, type FunctionName } from "../infra/functions.ts";
import { buildLambdas, handlerParts } from "../scripts/build-lambda.ts";
import { LambdaHarness } from "../test/support/lambda/harness.ts";
import { stageBundles, startLambdaDeployment, type LambdaDeployment } from "../test/support/lambda/deployment.ts";
import { syntheticSites, syntheticSpec } from "../test/fixtures/synthetic-sites.ts";
import { builtinPlan, quietLogger } from "./plan.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const colds = Number(process.env.BENCH_COLD ?? 7);
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

await selectBackend();
const buildDir = await mkdtemp(join(tmpdir(), "consilium-lambda-bench-"));
try {
  const built = await buildLambdas(buildDir);
  const names = Object.keys(FUNCTIONS) as FunctionName[];

  // Cold starts, bundle and sources alternately: the init phase only (the handlers build their clients on first use).
  const coldBundle = new Map<FunctionName, number[]>(names.map((n) => [n, []]));
  const coldSource = new Map<FunctionName, number[]>(names.map((n) => [n, []]));
  for (let i = 0; i < colds; i++) {
    for (const name of names) {
      const f = built[name];
      const base = { name, exportName: f.exportName, memoryMb: FUNCTIONS[name].memoryMb, timeoutSeconds: FUNCTIONS[name].timeoutSeconds, env: { AWS_REGION: "us-east-1" } };
      const bundled = new LambdaHarness([{ ...base, dir: f.dir, file: f.file }], { maxConcurrency: 1 });
      const source = new LambdaHarness([{ ...base, dir: ROOT, file: handlerParts(FUNCTIONS[name].handler).source, nodeArgs: ["--import", "tsx"] }], { maxConcurrency: 1 });
      const b = await bundled.coldStart(name);
      const s = await source.coldStart(name);
      await Promise.all([bundled.stop(), source.stop()]);
      if (b === null || s === null) throw new Error(`${name} did not start: ${[...bundled.violations, ...source.violations].join("; ")}`);
      coldBundle.get(name)!.push(b);
      coldSource.get(name)!.push(s);
    }
  }

  // The heart-disease federation (`npm start`'s) through the bundles and in process, alternately.
  const plan = await builtinPlan("heart-disease", 1);
  const inProcess: number[] = [];
  const lambda: number[] = [];
  const deployments: LambdaDeployment[] = [];
  for (let i = 0; i < repeats; i++) {
    let t = performance.now();
    await simulateOnce(plan, 1 + i, { logger: quietLogger });
    inProcess.push((performance.now() - t) / 1000);
    t = performance.now();
    await simulateOnce(plan, 1 + i, { logger: quietLogger, deploy: async () => {
      const d = await startLambdaDeployment({ built });
      deployments.push(d);
      return d;
    } });
    lambda.push((performance.now() - t) / 1000);
  }
  // Regional tiers: the same hospitals in two regions (FedAvg, which regions need), every stage through the bundles, each region's relay on its schedule; beside the same tiers in process.
  const tiered = { ...plan, strategy: "fedavg", regions: [{ name: "eu", sites: [0, 1] }, { name: "us", sites: [2, 3] }] };
  const regionalStages: LambdaDeployment[] = [];
  let t = performance.now();
  await simulateOnce(tiered, 1, { logger: quietLogger });
  const tieredInProcess = (performance.now() - t) / 1000;
  t = performance.now();
  await simulateOnce(tiered, 1, { logger: quietLogger, deploy: async (regional) => {
    const d = await startLambdaDeployment({ built: await stageBundles(built, buildDir), ...(regional && { upstream: regional }) });
    (regional ? regionalStages : deployments).push(d);
    return d;
  } });
  const tieredLambda = (performance.now() - t) / 1000;
  deployments.push(...regionalStages);
  // One aggregation round at size: eight sites, a two-layer MLP of 2048 units, through the bundles, streamed (fedavg) and decoded (robust).
  const big = { sites: syntheticSites({ sites: 8, trainRows: 64, testRows: 32, seed: 3 }), features: syntheticSpec, model: "mlp:2048,2048", rounds: 1, codec: "float32" as const, roundDeadlineSeconds: 600,
    training: { localEpochs: 1, lrSchedule: "constant" as const, batchSize: 64, learningRate: 0.05, l2: 0, headEpochs: 1, headL2: 0.01 } };
  const sized: { strategy: string; parameters: number; peakMb: number; ms: number; updatesMb: number }[] = [];
  for (const strategy of ["fedavg", "robust"]) {
    let d: LambdaDeployment | undefined;
    let parameters = 0;
    await simulateOnce({ ...big, strategy }, 1, { logger: quietLogger, deploy: async () => (d = await startLambdaDeployment({ built })), onStack: async (store) => {
      parameters = ((await store.head("models/000000/weights.bin")) ?? 0) / 4;
    } }).catch((error: unknown) => {
      throw new Error(`the ${strategy} round at size failed: ${String(error)}; limits broken: ${d?.harness.violations.join("; ")}`);
    });
    const a = d!.harness.stats.get("Aggregate")!;
    deployments.push(d!);
    sized.push({ strategy, parameters, peakMb: a.peakRssMb, ms: a.maxDurationMs, updatesMb: (big.sites.length * parameters * 4) / 2 ** 20 });
  }

  const violations = deployments.flatMap((d) => d.harness.violations);
  const heart = deployments.slice(0, repeats);
  // The relay runs only in a regional stage: its figures are the tiered federation's.
  const stat = (name: FunctionName) => (name === "RegionRelay" ? regionalStages : heart).map((d) => d.harness.stats.get(name)).filter((s) => s !== undefined);
  const roundsRun = plan.rounds * heart.length;
  const perRound = (n: number) => (n / roundsRun).toFixed(2);
  const s3 = new Map<string, number>();
  for (const d of heart) for (const proxy of Object.values(d.iam)) for (const [action, n] of proxy.allowed) s3.set(action, (s3.get(action) ?? 0) + n);
  const wrote = (name: string) => [...new Set(heart.flatMap((d) => [...(d.iam[name]?.byArea.keys() ?? [])]).filter((k) => /^s3:(PutObject|DeleteObject) /.test(k)).map((k) => k.replace(/^s3:(PutObject|DeleteObject) [^/]+\//, (_m, a: string) => (a === "DeleteObject" ? "delete " : ""))))].sort();

  const lines = [
    `backend ${await selectBackend()}; ${plan.sites.length} sites, ${plan.rounds} rounds; cold starts: median of ${colds}; federations: median of ${repeats}; limits broken: ${violations.length === 0 ? "none" : violations.join("; ")}`,
    "",
    "| function | bundle | cold start, bundle | cold start, sources (tsx) | ratio | first invocation | slowest invocation | peak memory / configured |",
    "|---|---|---|---|---|---|---|---|",
    ...names.map((name) => {
      const s = stat(name);
      const first = s.flatMap((x) => x.firstInvocationsMs);
      const cb = median(coldBundle.get(name)!);
      const cs = median(coldSource.get(name)!);
      const ran = s.some((x) => x.invocations > 0);
      const peak = Math.max(0, ...s.map((x) => x.peakRssMb));
      return `| ${name} | ${(built[name].bytes / 1024).toFixed(0)} KiB | ${cb.toFixed(0)} ms | ${cs.toFixed(0)} ms | ${(cb / cs).toFixed(2)}× | ${ran ? `${median(first).toFixed(0)} ms` : "not in this run"} | ${ran ? `${Math.max(...s.map((x) => x.maxDurationMs)).toFixed(0)} ms` : "—"} | ${ran ? `${peak.toFixed(0)} / ${FUNCTIONS[name].memoryMb} MB` : "—"} |`;
    }),
    "",
    "| heart-disease federation | seconds | ratio |",
    "|---|---|---|",
    `| coordinator in process (\`npm start\`) | ${median(inProcess).toFixed(2)} | 1.00× |`,
    `| coordinator as bundled Lambda functions in the harness | ${median(lambda).toFixed(2)} | ${(median(lambda) / median(inProcess)).toFixed(2)}× |`,
    "",
    `The same hospitals in two regions (${tiered.regions.map((r) => `${r.name}: ${r.sites.length} sites`).join(", ")}; FedAvg; one federation each way): a global stage and two regional stages, each region's relay the bundled \`RegionRelay\` on its schedule (its first and slowest invocations and its peak memory are the table's above; a run takes relay steps for up to 45 s, pausing 2 s while nothing moves).`,
    "",
    "| regional tiers | seconds | ratio |",
    "|---|---|---|",
    `| coordinators and relays in process | ${tieredInProcess.toFixed(2)} | 1.00× |`,
    `| three stages of bundled Lambda functions in the harness | ${tieredLambda.toFixed(2)} | ${(tieredLambda / tieredInProcess).toFixed(2)}× |`,
    "",
    `Per round of that federation (${plan.sites.length} sites; ${roundsRun} rounds in all), what Lambda and S3 bill by:`,
    "",
    "| function | invocations per round | GB-seconds per round |",
    "|---|---|---|",
    ...(["Api", "Aggregate", "CloseRounds"] as const).map((name) => {
      const s = stat(name);
      const n = s.reduce((a, x) => a + x.invocations, 0);
      const gbs = s.reduce((a, x) => a + (x.totalMs / 1000) * (FUNCTIONS[name].memoryMb / 1024), 0);
      return `| ${name} | ${perRound(n)} | ${perRound(gbs)} |`;
    }),
    "",
    `S3 and SQS requests per round (the functions' own and those through URLs they presigned): ${[...s3].sort().map(([a, n]) => `${a} ${perRound(n)}`).join(", ")}. The cron's requests are per tick: the deployed cron ticks once a minute, the harness's every 0.5 s, so its share here is the harness's, not a deployment's.`,
    "",
    "What each function wrote (bucket areas; `delete` where it deleted):",
    "",
    ...(["Api", "Aggregate", "CloseRounds"] as const).map((name) => `- ${name}: ${wrote(name).join(", ")}`),
    "",
    `One round at size (${big.sites.length} sites, \`${big.model}\`, float32 updates), the aggregate job in the harness under its ${FUNCTIONS.Aggregate.memoryMb} MB and ${FUNCTIONS.Aggregate.timeoutSeconds} s:`,
    "",
    "| strategy | parameters | updates held if decoded | aggregate job's peak memory | its time | memory ratio to the updates' size |",
    "|---|---|---|---|---|---|",
    ...sized.map((x) => `| ${x.strategy} (${x.strategy === "fedavg" ? "streamed" : "decoded"}) | ${(x.parameters / 1e6).toFixed(2)} M | ${x.updatesMb.toFixed(0)} MB | ${x.peakMb.toFixed(0)} MB | ${(x.ms / 1000).toFixed(2)} s | ${(x.peakMb / x.updatesMb).toFixed(2)}× |`),
    "",
  ];
  process.stdout.write(lines.join("\n"));
  await writeFile(join(ROOT, "bench", "results", "lambda.md"), lines.join("\n"));
  if (violations.length > 0) process.exitCode = 1;
} finally {
  await rm(buildDir, { recursive: true, force: true });
}
