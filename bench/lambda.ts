/**
 * @module
 * The deployed coordinator, measured in the Lambda harness (test/support/lambda/): each function's
 * bundle as `npm run build:lambda` builds it (SST's esbuild settings), its cold start (process up,
 * bundle loaded) beside the same handler loaded from its TypeScript sources with tsx (what
 * bundling buys), its first and warm invocations and its peak memory against the memory
 * `infra/functions.ts` gives it, over the heart-disease federation run through the bundles, and
 * that federation's wall time beside the in-process coordinator's, alternately in one run.
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
import { startLambdaDeployment, type LambdaDeployment } from "../test/support/lambda/deployment.ts";
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
  const violations = deployments.flatMap((d) => d.harness.violations);
  const stat = (name: FunctionName) => deployments.map((d) => d.harness.stats.get(name)).filter((s) => s !== undefined);

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
      return `| ${name} | ${(built[name].bytes / 1024).toFixed(0)} KiB | ${cb.toFixed(0)} ms | ${cs.toFixed(0)} ms | ${(cb / cs).toFixed(2)}× | ${ran ? `${median(first).toFixed(0)} ms` : "not in this run"} | ${ran ? `${Math.max(...s.map((x) => x.maxDurationMs)).toFixed(0)} ms, ${s.reduce((a, x) => a + x.invocations, 0)} invocations` : "—"} | ${ran ? `${peak.toFixed(0)} / ${FUNCTIONS[name].memoryMb} MB` : "—"} |`;
    }),
    "",
    "| heart-disease federation | seconds | ratio |",
    "|---|---|---|",
    `| coordinator in process (\`npm start\`) | ${median(inProcess).toFixed(2)} | 1.00× |`,
    `| coordinator as bundled Lambda functions in the harness | ${median(lambda).toFixed(2)} | ${(median(lambda) / median(inProcess)).toFixed(2)}× |`,
    "",
  ];
  process.stdout.write(lines.join("\n"));
  await writeFile(join(ROOT, "bench", "results", "lambda.md"), lines.join("\n"));
  if (violations.length > 0) process.exitCode = 1;
} finally {
  await rm(buildDir, { recursive: true, force: true });
}
