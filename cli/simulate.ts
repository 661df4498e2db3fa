/**
 * @module
 * `consilium simulate`: a whole federation on one machine, through the production code paths —
 * an embedded S3/SQS-compatible server on loopback, the coordinator over HTTP, and one runner per
 * site talking to both exactly as a hospital would.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "../core/logger.ts";
import { parseModelSpec } from "../core/model/model-spec.ts";
import { buildRunReport } from "../core/report/build-run-report.ts";
import type { FeatureSpec } from "../core/schemas/feature-spec.ts";
import type { EnrolResponse, FederationConfig, TrainingConfig } from "../core/schemas/federation.ts";
import type { RunReport } from "../core/schemas/report.ts";
import { systemClock, type ObjectStore } from "../functions/ports.ts";
import { trainCentralized } from "../gpu-runner/centralized.ts";
import { CoordinatorClient } from "../gpu-runner/client.ts";
import type { SiteData } from "../gpu-runner/data/builtin-datasets.ts";
import { runSite, type RunnerEvent } from "../gpu-runner/site-runner.ts";
import { AdminClient } from "./admin-client.ts";
import { startCoordinator } from "./coordinator-server.ts";
import { startEmbeddedStack } from "./embedded-stack.ts";

export interface SimulationPlan {
  readonly sites: readonly SiteData[];
  readonly features: FeatureSpec;
  readonly model: string;
  readonly training: TrainingConfig;
  readonly rounds: number;
  readonly strategy: string;
  readonly codec: FederationConfig["codec"];
  readonly roundDeadlineSeconds: number;
  /** Keep each site's personal head under this folder (`<dir>/<site-id>`); a temporary folder otherwise. */
  readonly stateDir?: string;
}

export interface SimulationHooks {
  readonly logger: Logger;
  readonly onEvent?: (siteIndex: number, event: RunnerEvent) => void;
  /** Sees the coordinator's store after the run, before teardown (tests inspect what was stored). */
  readonly onStack?: (store: ObjectStore) => Promise<void> | void;
}

/** Runs one seed of the plan end to end and reports it from the coordinator's own status. */
export async function simulateOnce(plan: SimulationPlan, seed: number, hooks: SimulationHooks): Promise<RunReport> {
  const started = performance.now();
  const stack = await startEmbeddedStack();
  const adminToken = randomBytes(24).toString("base64url");
  const deps = { store: stack.store, queue: stack.queue, clock: systemClock, logger: hooks.logger, adminToken, pollMs: 25 };
  const coordinator = await startCoordinator({ deps, sqs: stack.sqs, queueUrl: stack.queueUrl, cronMs: 500 });
  const stateRoot = plan.stateDir ?? (await mkdtemp(join(tmpdir(), "consilium-sites-")));
  const controller = new AbortController();
  try {
    const admin = new AdminClient(coordinator.url, adminToken);
    const model = parseModelSpec(plan.model);
    await admin.createFederation({
      id: "simulation",
      features: plan.features,
      model,
      training: plan.training,
      rounds: plan.rounds,
      expectedSites: plan.sites.length,
      roundDeadlineSeconds: plan.roundDeadlineSeconds,
      strategy: plan.strategy,
      codec: plan.codec,
      seed,
    });
    const enrolled: EnrolResponse[] = [];
    for (const site of plan.sites) enrolled.push(await admin.enrol(site.name));
    await Promise.all(
      plan.sites.map((site, i) => {
        const { siteId, token } = enrolled[i] ?? { siteId: "", token: "" };
        return runSite({
          siteId,
          client: new CoordinatorClient(coordinator.url, token),
          data: site,
          stateDir: join(stateRoot, siteId),
          logger: hooks.logger,
          signal: controller.signal,
          onEvent: (e) => hooks.onEvent?.(i, e),
        }).catch((err: unknown) => {
          controller.abort();
          throw err;
        });
      }),
    );
    const status = await admin.status();
    await hooks.onStack?.(stack.store);
    const counts = trainCentralized({ sites: plan.sites, features: plan.features, model, training: plan.training, rounds: plan.rounds, seed });
    const centralized = new Map(enrolled.flatMap((e, i) => (counts[i] ? [[e.siteId, counts[i]] as const] : [])));
    return buildRunReport({ seed, wallSeconds: (performance.now() - started) / 1000, status, centralized });
  } finally {
    controller.abort();
    await coordinator.stop();
    await stack.stop();
    if (!plan.stateDir) await rm(stateRoot, { recursive: true, force: true });
  }
}
