/**
 * @module
 * `consilium simulate`: a whole federation on one machine, through the production code paths —
 * an embedded S3/SQS-compatible server on loopback, the coordinator over HTTP, and one runner per
 * site talking to both exactly as a hospital would.
 */
import { keys } from "../functions/keys.ts";
import { runStore } from "../functions/adapters/run-store.ts";
import type { PrivacyPolicy } from "../core/schemas/privacy.ts";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "../core/logger.ts";
import { specOf, type ModelSpec } from "../core/model/model-spec.ts";
import { createStrategy } from "../core/strategy/create-strategy.ts";
import type { Table } from "../core/preprocess/table.ts";
import { buildRunReport, type RunInputs } from "../core/report/build-run-report.ts";
import type { EvalCounts } from "../core/metrics/eval-counts.ts";
import { mergeCounts } from "../core/metrics/index.ts";
import { mergeMulticlass, type MulticlassCounts } from "../core/metrics/multiclass.ts";
import type { ModelCounts } from "../gpu-runner/model/score-rows.ts";
import type { FeatureSpec } from "../core/schemas/feature-spec.ts";
import type { EnrolResponse, FederationConfig, TrainingConfig } from "../core/schemas/federation.ts";
import type { RunReport } from "../core/schemas/report.ts";
import { withWriteOnceCache } from "../functions/adapters/write-once-cache.ts";
import { systemClock, type Clock, type ObjectStore } from "../functions/ports.ts";
import { maliciousSites, parseAttack, type AttackPlan } from "../gpu-runner/simulation/attack.ts";
import type { SiteSpeed } from "../gpu-runner/simulation/site-speed.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { trainCentralized } from "../gpu-runner/training/centralized.ts";
import { CoordinatorClient } from "../client/coordinator-client.ts";
import type { SiteData } from "../gpu-runner/data/builtin-datasets.ts";
import { runSite, type RunnerEvent } from "../gpu-runner/session/site-runner.ts";
import { AdminClient } from "../client/admin-client.ts";
import { startCoordinator } from "./coordinator-server.ts";
import { federationsProblem } from "./compose.ts";
import { SIMULATION_RETRY } from "./simulation-retry.ts";
import { startEmbeddedStack } from "./embedded-stack.ts";
import { simulateRegions } from "./simulate-regions.ts";
import { runSitesInWorkers } from "./runner-pool.ts";
import { seededRandom } from "../core/random.ts";
import type { CoordinatorDeps } from "../functions/deps.ts";

/** A region of the simulated consortium: its name and its sites, by index into the plan's sites. */
export interface Region {
  readonly name: string;
  readonly sites: readonly number[];
}

const toPlain = (t: Table) => ({ columns: [...t.columns], rows: t.rows.map((r) => [...r]) });

export interface SimulationPlan {
  readonly sites: readonly SiteData[];
  readonly features: FeatureSpec;
  /** `logreg`, `mlp:…`, `cnn:…`, or a spec read from a model.json. */
  readonly model: string | ModelSpec;
  readonly training: TrainingConfig;
  readonly rounds: number;
  readonly strategy: string;
  readonly codec: FederationConfig["codec"];
  /** The down-link's codec (`FederationConfig.downlinkCodec`); the update codec when absent. */
  readonly downlinkCodec?: FederationConfig["codec"];
  readonly roundDeadlineSeconds: number;
  /** Keep each site's personal head under this folder (`<dir>/<site-id>`); a temporary folder otherwise. */
  readonly stateDir?: string;
  /** Worker threads that host the site runners (0 or absent: all in this thread). */
  readonly workers?: number;
  /** The attack lab: this share of the sites, chosen by seed, sends poisoned updates. */
  readonly attack?: AttackPlan;
  /** What the data-quality checks do with a flagged site (`FederationConfig.quality`). */
  readonly quality?: FederationConfig["quality"];
  /** Per site (by index), its simulated compute and link speed; as fast as this machine when absent. */
  readonly speeds?: readonly SiteSpeed[];
  /** Buffered asynchronous rounds (`FederationConfig.async`). */
  readonly async?: FederationConfig["async"];
  /**
   * Regional tiers: each region's sites (by index) get their own coordinator, and only the
   * regional aggregates reach the global one (`FederationConfig.upstream`).
   */
  readonly regions?: readonly Region[];
  /** Noise on the sites' statistics (`FederationConfig.statsNoise`). */
  readonly statsNoise?: FederationConfig["statsNoise"];
  /** Differential privacy for every site (`FederationConfig.privacy`). */
  readonly privacy?: PrivacyPolicy;
  /** Sites (by index) that hold themselves to less ε than the policy, as a hospital's own data-use agreement may. */
  readonly privacyCaps?: Readonly<Record<number, number>>;
  /** Contribution scoring in the coordinator (off when absent). */
  readonly scoring?: FederationConfig["scoring"];
  /** How the operating threshold is chosen (Youden's J when absent). */
  readonly operatingPoint?: FederationConfig["operatingPoint"];
  /** The coordinator-held validation rows for validation-based scoring (see holdOutValidation). */
  readonly validation?: Table;
  /** Secure aggregation (`FederationConfig.secureAggregation`). */
  readonly secureAggregation?: FederationConfig["secureAggregation"];
  /** With secure aggregation: this share of the sites, drawn afresh each round from the seed, drops out after uploading its masked input. */
  readonly dropout?: number;
  /** The coordinator refuses an update holding a value of larger magnitude (`FederationConfig.maxUpdateAbs`). */
  readonly maxUpdateAbs?: number;
  /** Updates above this many bytes go up as multipart uploads (the coordinator's default, 8 MiB, when absent). */
  readonly multipartThresholdBytes?: number;
}

export interface SimulationHooks {
  readonly logger: Logger;
  readonly onEvent?: (siteIndex: number, event: RunnerEvent) => void;
  /** Sees the coordinator's store as the simulated run (the consortium's first) sees it, after the run, before teardown (tests inspect what was stored). */
  readonly onStack?: (store: ObjectStore) => Promise<void> | void;
  /** Runners in this thread only: the fetch they reach the coordinator and the store with (to record or shape traffic). */
  readonly fetch?: typeof fetch;
  /** Runners in this thread only: the codes each site masked in each secure round, and what it uploaded. */
  readonly onMasked?: (siteId: string, round: number, codes: Uint32Array, masked: Uint32Array) => void;
  /**
   * Starts the coordinator the sites talk to instead of the in-process one (`startDeployment`):
   * the Lambda harness runs the deployed bundles this way. With regions it is called for the
   * global coordinator (no argument) and then for each region's, which is given the global URL
   * and its relay's credential there and runs the relay itself (`Deployment.relayDone`).
   */
  readonly deploy?: (regional?: RegionalStage) => Promise<Deployment>;
  /** With regions: sees each region's coordinator store as its run sees it, after the run, before teardown. */
  readonly onRegionStack?: (region: string, store: ObjectStore) => Promise<void> | void;
}

export interface EnrolledSite {
  readonly index: number;
  readonly siteId: string;
  readonly token: string;
  readonly stateDir: string;
  readonly train: Table;
  readonly test: Table;
  /** The attack spec this site runs, if the attack lab made it malicious. */
  readonly attack?: string;
  /** This site's own cap on ε (`SimulationPlan.privacyCaps`). */
  readonly privacyCap?: number;
  readonly outOfRange?: SiteData["outOfRange"];
  readonly speed?: SiteSpeed;
  /** Secure rounds in which this site drops out after its masked upload (`SimulationPlan.dropout`). */
  readonly dropRounds?: number[];
}

/**
 * For each site (by index), the rounds in which it drops out: in every round, `round(fraction × n)`
 * sites drawn afresh from the seed.
 */
export function dropoutRounds(sites: number, rounds: number, fraction: number, seed: number): number[][] {
  const out: number[][] = Array.from({ length: sites }, () => []);
  const count = Math.round(fraction * sites);
  for (let round = 1; round <= rounds; round++) {
    const rng = seededRandom((seed ^ Math.imul(round, 0x9e3779b1)) >>> 0);
    const order = Array.from({ length: sites }, (_, i) => i);
    for (let i = sites - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const i of order.slice(0, count)) out[i]!.push(round);
  }
  return out;
}

/** Every runner in this thread, concurrently; the first failure stops the others. */
function runSitesHere(sites: EnrolledSite[], url: string, hooks: SimulationHooks, controller: AbortController): Promise<unknown> {
  return Promise.all(
    sites.map((s) =>
      runSite({
        siteId: s.siteId,
        client: new CoordinatorClient(url, s.token, hooks.fetch, { policy: SIMULATION_RETRY, signal: controller.signal }),
        data: s,
        stateDir: s.stateDir,
        attack: s.attack === undefined ? undefined : parseAttack(s.attack),
        ...(s.privacyCap !== undefined && { privacyCap: s.privacyCap }),
        ...(s.speed && { speed: s.speed }),
        ...(s.dropRounds && { dropRounds: s.dropRounds }),
        ...(hooks.onMasked && { onMasked: (round: number, codes: Uint32Array, masked: Uint32Array) => hooks.onMasked!(s.siteId, round, codes, masked) }),
        logger: hooks.logger,
        signal: controller.signal,
        onEvent: (e) => hooks.onEvent?.(s.index, e),
      }).catch((err: unknown) => {
        controller.abort();
        throw err;
      }),
    ),
  );
}

/** A coordinator as the sites and the simulation's operator reach it. */
export interface Deployment {
  readonly url: string;
  readonly admin: AdminClient;
  readonly stack: { readonly store: ObjectStore };
  /** A region's deployment that runs its own relay: settles when the relay is done, rejects when it fails. */
  readonly relayDone?: Promise<void>;
  stop(): Promise<void>;
}

/** What a region's deployment is given: its name, the global coordinator's URL, and its relay's site credential there. */
export interface RegionalStage {
  readonly region: string;
  readonly url: string;
  readonly token: string;
}

/** An embedded S3/SQS stack and a coordinator over HTTP on it, as one deployment (global or a region's). */
export async function startDeployment(plan: Pick<SimulationPlan, "multipartThresholdBytes">, hooks: Pick<SimulationHooks, "logger">, clock: Clock = systemClock) {
  const stack = await startEmbeddedStack();
  const adminToken = randomBytes(24).toString("base64url");
  const deps: CoordinatorDeps = {
    store: withWriteOnceCache(stack.store), queue: stack.queue, clock, logger: hooks.logger, adminToken, pollMs: 25,
    multipartThresholdBytes: plan.multipartThresholdBytes,
  };
  const coordinator = await startCoordinator({ deps, sqs: stack.sqs, queueUrl: stack.queueUrl, cronMs: 500 });
  return {
    deps,
    stack,
    url: coordinator.url,
    admin: new AdminClient(coordinator.url, adminToken),
    stop: async () => {
      await coordinator.stop();
      await stack.stop();
    },
  };
}

/** The federation the plan describes, for `sites` expected sites (a region's when `upstream` is given). */
export function federationOf(plan: SimulationPlan, seed: number, sites: number, upstream?: { region: string }): FederationConfig {
  return {
    id: upstream ? `simulation-${upstream.region}` : "simulation",
    features: plan.features,
    model: specOf(plan.model),
    training: plan.training,
    rounds: plan.rounds,
    expectedSites: sites,
    roundDeadlineSeconds: plan.roundDeadlineSeconds,
    // A region's coordinator sends its sites' mean up: the plan's strategy is the global coordinator's, over the regional means.
    strategy: upstream ? "fedavg" : plan.strategy,
    codec: plan.codec,
    ...(plan.downlinkCodec !== undefined && { downlinkCodec: plan.downlinkCodec }),
    ...(plan.privacy && { privacy: plan.privacy }),
    ...(plan.quality && { quality: plan.quality }),
    ...(plan.statsNoise && { statsNoise: plan.statsNoise }),
    ...(plan.async && { async: plan.async }),
    ...(upstream && { upstream }),
    // With regions, secure aggregation runs inside each region: the global coordinator's sites are the relays, which send regional means.
    ...(plan.secureAggregation && (upstream !== undefined || !plan.regions) && { secureAggregation: plan.secureAggregation }),
    seed,
    ...(plan.scoring && { scoring: plan.scoring }),
    ...(plan.operatingPoint && { operatingPoint: plan.operatingPoint }),
    ...(plan.maxUpdateAbs !== undefined && { maxUpdateAbs: plan.maxUpdateAbs }),
  };
}

/** Each plan site as its runner needs it, with the id, credential and state folder it was enrolled with. */
export function enrolledSites(plan: SimulationPlan, seed: number, enrolled: readonly EnrolResponse[], stateRoot: string, indices: readonly number[]): EnrolledSite[] {
  const attacked = plan.attack ? maliciousSites(plan.sites.length, plan.attack, seed) : new Map<number, string>();
  const drops = plan.dropout ? dropoutRounds(plan.sites.length, plan.rounds, plan.dropout, seed) : null;
  return indices.map((index, k) => {
    const site = plan.sites[index]!;
    const { siteId, token } = enrolled[k] ?? { siteId: "", token: "" };
    const privacyCap = plan.privacyCaps?.[index];
    return {
      index, siteId, token, stateDir: join(stateRoot, siteId), train: site.train, test: site.test, attack: attacked.get(index),
      ...(privacyCap !== undefined && { privacyCap }),
      ...(site.outOfRange && { outOfRange: site.outOfRange }),
      ...(plan.speeds?.[index] && { speed: plan.speeds[index] }),
      ...(drops && { dropRounds: drops[index]! }),
    };
  });
}

/**
 * Why the plan cannot run, or null: what the coordinator would refuse of any federation it
 * creates (the global one and, with regions, each region's), and, with regions, a global strategy
 * with control variates, which the relays do not send (they send their region's mean update).
 */
export function planProblem(plan: SimulationPlan, seed: number): string | null {
  if (!plan.regions) return federationsProblem([federationOf(plan, seed, plan.sites.length)]);
  const problem = federationsProblem([federationOf(plan, seed, plan.regions.length), ...plan.regions.map((r) => federationOf(plan, seed, r.sites.length, { region: r.name }))]);
  if (problem) return problem;
  const strategy = createStrategy(plan.strategy);
  return strategy.controlVariates ? `with regions the global coordinator's sites are the regions' relays, which send their region's mean update without control deltas: ${strategy.spec} needs them` : null;
}

/** Fixed ids make a seed's run reproducible: a site's training randomness derives from its id. */
export const siteIdOf = (index: number) => `site-${String(index + 1).padStart(2, "0")}`;

/** Runs the site runners, in worker threads when the plan asks for them. */
export async function runSites(plan: SimulationPlan, sites: EnrolledSite[], url: string | ((s: EnrolledSite) => string), hooks: SimulationHooks, controller: AbortController): Promise<void> {
  const urlOf = typeof url === "string" ? () => url : url;
  const workers = plan.workers ?? 0;
  const byUrl = new Map<string, EnrolledSite[]>();
  for (const site of sites) byUrl.set(urlOf(site), [...(byUrl.get(urlOf(site)) ?? []), site]);
  const groups = [...byUrl];
  await Promise.all(
    groups.map(async ([coordinatorUrl, group]) => {
      if (workers > 0) {
        const plain = group.map((s) => ({ ...s, train: toPlain(s.train), test: toPlain(s.test) }));
        await runSitesInWorkers(plain, { coordinatorUrl, backend: await selectBackend(), workers: Math.max(1, Math.round(workers / groups.length)), logger: hooks.logger, onEvent: hooks.onEvent, signal: controller.signal });
      } else {
        await runSitesHere(group, coordinatorUrl, hooks, controller);
      }
    }),
  );
}

/**
 * The centralized baseline's counts as the report takes them, by the id each site (or region) has
 * at the coordinator, pooled where an id stands for several sites: binary counts, or a K-class
 * model's with the classes' names.
 */
export function centralizedBySite(entries: readonly (readonly [string, readonly ModelCounts[]])[], features: FeatureSpec): Pick<RunInputs, "centralized" | "classes"> {
  const binary = new Map<string, EvalCounts>();
  const classes = new Map<string, MulticlassCounts>();
  for (const [id, counts] of entries) {
    const b = counts.flatMap((c) => (c.kind === "binary" ? [c.counts] : []));
    const k = counts.flatMap((c) => (c.kind === "classes" ? [c.counts] : []));
    if (b.length > 0) binary.set(id, mergeCounts(b));
    if (k.length > 0) classes.set(id, mergeMulticlass(k));
  }
  return { centralized: binary, ...(features.label.classes && { classes: { names: features.label.classes, centralized: classes } }) };
}

/** Runs one seed of the plan end to end and reports it from the coordinator's own status. */
export async function simulateOnce(plan: SimulationPlan, seed: number, hooks: SimulationHooks): Promise<RunReport> {
  if (plan.regions) return simulateRegions(plan, plan.regions, seed, hooks);
  const started = performance.now();
  const global: Deployment = hooks.deploy ? await hooks.deploy() : await startDeployment(plan, hooks);
  const stateRoot = plan.stateDir ?? (await mkdtemp(join(tmpdir(), "consilium-sites-")));
  const controller = new AbortController();
  try {
    const { admin } = global;
    await admin.createFederation(federationOf(plan, seed, plan.sites.length));
    if (plan.validation) await admin.putValidation(toPlain(plan.validation));
    const enrolled: EnrolResponse[] = [];
    for (const [i, site] of plan.sites.entries()) enrolled.push(await admin.enrol(site.name, siteIdOf(i)));
    const sites = enrolledSites(plan, seed, enrolled, stateRoot, plan.sites.map((_, i) => i));
    await runSites(plan, sites, global.url, hooks, controller);
    const status = await admin.status({ perSite: true });
    await hooks.onStack?.(runStore(global.stack.store, keys.runPrefix(1)));
    const counts = trainCentralized({ sites: plan.sites, features: plan.features, model: specOf(plan.model), training: plan.training, rounds: plan.rounds, seed });
    const malicious = sites.filter((s) => s.attack !== undefined).map((s) => s.siteId);
    return buildRunReport({ seed, wallSeconds: (performance.now() - started) / 1000, status, malicious, ...centralizedBySite(enrolled.map((e, i) => [e.siteId, counts[i] ? [counts[i]] : []]), plan.features) });
  } finally {
    controller.abort();
    await global.stop();
    if (!plan.stateDir) await rm(stateRoot, { recursive: true, force: true });
  }
}
