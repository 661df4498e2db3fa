/**
 * Regional tiers as deployed, proven without AWS: a global stage and two regional stages, each
 * the bundles `scripts/build-lambda.ts` builds, run in the Lambda harness with its own store,
 * queue and audit bucket. Each regional stage also runs `RegionRelay` on its schedule, with the
 * global Function URL and its `UpstreamToken` secret from SST's encrypted resource file, as
 * `infra/relay.ts` deploys it. Ordinary site runners talk to their region's Function URL only.
 * The federation publishes the same global model bytes as the in-process tiers for the same seed,
 * breaks none of Lambda's limits, and makes no call its deployed IAM policy refuses.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulateOnce, type RegionalStage, type SimulationPlan } from "../cli/simulate.ts";
import { silentLogger } from "../core/logger.ts";
import type { RunReport } from "../core/schemas/report.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { FUNCTIONS, type FunctionName } from "../infra/functions.ts";
import { buildLambdas, type BuiltFunction } from "../scripts/build-lambda.ts";
import { smallPlan } from "./fixtures/synthetic-sites.ts";
import { stageBundles, startLambdaDeployment, type LambdaDeployment } from "./support/lambda/deployment.ts";
import { modelDigests } from "./support/model-bytes.ts";

const plan: SimulationPlan = {
  ...smallPlan(6, 12, 2),
  regions: [
    { name: "eu", sites: [0, 1, 2] },
    { name: "us", sites: [3, 4, 5] },
  ],
};

describe("regional tiers through the bundled Lambda handlers", () => {
  let buildDir: string;
  let built: Record<FunctionName, BuiltFunction>;
  let inProcess: Record<string, string> = {};
  let lambda: Record<string, string> = {};
  const regionalKeys = new Map<string, string[]>();
  let report: RunReport | undefined;
  const stages: { regional?: RegionalStage; d: LambdaDeployment }[] = [];

  beforeAll(async () => {
    await selectBackend("cpu");
    buildDir = await mkdtemp(join(tmpdir(), "consilium-lambda-"));
    built = await buildLambdas(buildDir);
    await simulateOnce(plan, 1, { logger: silentLogger, onStack: async (store) => void (inProcess = await modelDigests(store)) });
    report = await simulateOnce(plan, 1, {
      logger: silentLogger,
      deploy: async (regional) => {
        const d = await startLambdaDeployment({ built: await stageBundles(built, buildDir), ...(regional && { upstream: regional }) });
        stages.push({ ...(regional && { regional }), d });
        return d;
      },
      onStack: async (store) => void (lambda = await modelDigests(store)),
      onRegionStack: async (region, store) => void regionalKeys.set(region, await store.list("")),
    });
  }, 300_000);
  afterAll(() => rm(buildDir, { recursive: true, force: true }));

  it("closes every global round with both regions and publishes the same global model bytes as the in-process tiers", () => {
    expect(report?.rounds.map((r) => [r.round, r.status, r.sites])).toEqual([[1, "closed", 2], [2, "closed", 2]]);
    expect(Object.keys(lambda).length).toBeGreaterThanOrEqual(3);
    expect(lambda).toEqual(inProcess);
  });

  it("ran each regional stage's relay as a scheduled function, every stage within Lambda's limits and its policies", () => {
    expect(stages.map((s) => s.regional?.region ?? "global")).toEqual(["global", "eu", "us"]);
    for (const { regional, d } of stages) {
      const name = regional?.region ?? "global";
      expect(d.harness.violations, name).toEqual([]);
      const stats = Object.fromEntries(d.harness.stats);
      const ran = regional ? ["Api", "Aggregate", "CloseRounds", "RegionRelay"] : ["Api", "Aggregate", "CloseRounds"];
      expect(Object.keys(stats).sort(), name).toEqual([...ran].sort());
      for (const fn of ran) {
        expect(stats[fn]!.invocations, `${name} ${fn}`).toBeGreaterThan(0);
        expect(stats[fn]!.errors, `${name} ${fn}`).toBe(0);
        expect(stats[fn]!.peakRssMb, `${name} ${fn}`).toBeLessThan(FUNCTIONS[fn as FunctionName].memoryMb);
      }
      if (regional) {
        // The relay's reads and writes on its region's state went through its own policy.
        expect(d.iam.RegionRelay!.allowed.get("s3:GetObject") ?? 0, name).toBeGreaterThan(0);
        expect(d.iam.RegionRelay!.allowed.get("s3:PutObject") ?? 0, name).toBeGreaterThan(0);
      }
    }
  });

  it("keeps each region's sites in their region's store", () => {
    const sitesOf = (keys: string[]) => new Set(keys.flatMap((k) => [...k.matchAll(/site-0\d/g)].map((m) => m[0])));
    expect([...sitesOf(regionalKeys.get("eu") ?? [])].sort()).toEqual(["site-01", "site-02", "site-03"]);
    expect([...sitesOf(regionalKeys.get("us") ?? [])].sort()).toEqual(["site-04", "site-05", "site-06"]);
  });
});
