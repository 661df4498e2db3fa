/**
 * @module
 * A region's relay (regional tiers): to the global coordinator it is one site; to its region's
 * coordinator it is what opens rounds. It sends up the pooled statistics of the region's sites,
 * then, for each global round, opens the regional round on the global model, waits for the
 * regional aggregate and sends it up weighted by the region's training rows; at the end it has
 * the region's sites evaluate the final global model and sends their merged counts. Nothing a
 * single site sent leaves the region: only pooled statistics, aggregates and merged counts.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { decodeUpdate, sha256Hex } from "../core/codec/index.ts";
import { ConsiliumError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { Task } from "../core/schemas/task.ts";
import { z } from "zod";
import type { CoordinatorDeps } from "./deps.ts";
import { keys } from "./keys.ts";
import { readJson, writeJson } from "./repo.ts";
import { activeRunDeps } from "./use-cases/runs/run-scope.ts";
import { checkGlobalTask, finishRegion, openRegionalEvaluation, openRegionalRound, regionalAggregate, regionalRoundOpened, regionEvaluation, regionStats } from "./use-cases/region.ts";
import type { CoordinatorClient } from "../client/coordinator-client.ts";

export interface RegionRelayOptions {
  readonly region: string;
  /** The region's coordinator state (its own bucket and queue). */
  readonly deps: CoordinatorDeps;
  /** The global coordinator, with the region's site credential. */
  readonly global: CoordinatorClient;
  readonly pollMs?: number;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

/**
 * A region's run relays one global run: the first global task naming a run fixes it (write-once),
 * and a later global run is refused rather than fed this run's statistics and aggregates. A region
 * follows the global consortium's later runs only when its own coordinator starts a run for each.
 */
async function sameGlobalRun(deps: CoordinatorDeps, task: Task): Promise<void> {
  const named = task.kind === "stats" || task.kind === "train" ? task.federation : undefined;
  if (named === undefined) return;
  await writeJson(deps.store, keys.globalRun, { federation: named }, { ifAbsent: true });
  const fixed = await readJson(deps.store, keys.globalRun, z.object({ federation: z.string() }));
  if (fixed !== null && fixed.federation !== named) {
    throw new ConsiliumError("REGION_MISMATCH", `the global coordinator is on run ${named}, and this region's run relays ${fixed.federation}: start a new run at the region's coordinator (consilium runs start) to relay it`, 409);
  }
}

/** What one relay step did: the global federation is over, something moved, or nothing could yet. */
export type RelayStep = "done" | "progress" | "waiting";

/**
 * One step of the relay: asks the global coordinator for the region's task and does what the
 * region can of it now. Every step is idempotent, so steps may run from a loop (`runRegionRelay`)
 * or from a scheduled function, any number of times.
 */
export async function relayStep(options: RegionRelayOptions): Promise<RelayStep> {
  // The region's own run: its use cases read and write under the run's prefix.
  const o = { ...options, deps: await activeRunDeps(options.deps) };
  // A regional stage is deployed (its relay scheduled) before its federation is created: until then there is nothing to relay, and the global coordinator is not asked. The state is the federation's last write.
  if ((await o.deps.store.head(keys.state)) === null) {
    o.logger.info("the region has no federation yet: the relay waits", { region: o.region });
    return "waiting";
  }
  const task: Task = await o.global.task();
  await sameGlobalRun(o.deps, task);
  try {
    if (task.kind === "done") {
      // Done, or the global coordinator excluded the region: either way its sites have nothing more to do.
      await finishRegion(o.deps);
      return "done";
    }
    if (task.kind === "wait") return "waiting";
    if (task.kind === "stats") {
      await checkGlobalTask(o.deps, { features: task.features, noise: task.noise });
      const stats = await regionStats(o.deps);
      if (!stats) return "waiting";
      await o.global.postStats(stats);
      return "progress";
    }
    if (task.kind !== "train" && task.kind !== "evaluate") {
      throw new ConsiliumError("REGION_MISMATCH", `the global coordinator asks for ${task.kind}: it runs secure aggregation, which a region's relay does not take part in`, 500);
    }
    await checkGlobalTask(o.deps, {
      rounds: task.rounds,
      bodySize: task.layout.bodySize,
      spec: task.spec,
      training: task.training,
      ...(task.kind === "train" && { codec: task.codec, privacy: task.privacy }),
    });
    if (task.kind === "train") return (await relayRound(o, task)) ? "progress" : "waiting";
    const model = decodeUpdate(await o.global.download(task.model), { length: task.layout.bodySize, codec: "float32" }).values;
    await openRegionalEvaluation(o.deps, { version: task.model.version, model, preprocessing: task.preprocessing });
    const evaluation = await regionEvaluation(o.deps);
    if (!evaluation) return "waiting";
    if (evaluation.modelVersion !== task.model.version) {
      throw new ConsiliumError("REGION_MISMATCH", `the region evaluated model ${evaluation.modelVersion}, the global coordinator's final model is ${task.model.version}`, 500);
    }
    // The region's training-row counts go up only when the global federation asks for them.
    const { globalTrain, ...asked } = evaluation;
    await o.global.postEvaluation(task.trainCounts && globalTrain ? evaluation : asked);
    return "progress";
  } catch (err) {
    // The global coordinator moved on meanwhile (its round closed, a duplicate…): ask again later. Anything else is no passing state.
    if (!(err instanceof ConsiliumError && TRANSIENT.has(err.code))) throw err;
    o.logger.warn("global coordinator refused the region's step", { region: o.region, code: err.code, message: err.message });
    return "waiting";
  }
}

/** Refusals of the global coordinator that a later step resolves by itself. */
const TRANSIENT = new Set(["ROUND_CLOSED", "DEADLINE_PASSED", "DUPLICATE_UPDATE", "DUPLICATE_STATS", "DUPLICATE_EVALUATION", "WRONG_PHASE", "STALE_MODEL", "STATS_MERGE_FAILED"]);

/** Time the relay keeps between the regional round's deadline and the global one's, to send the aggregate up. */
const SEND_MARGIN_MS = 5_000;

/** Runs relay steps until the global federation is done (or `signal` aborts), pausing while nothing moves. */
export async function runRegionRelay(o: RegionRelayOptions): Promise<void> {
  while (!o.signal?.aborted) {
    const step = await relayStep(o);
    if (step === "done") return;
    if (step === "waiting") await sleep(o.pollMs ?? 100, undefined, { signal: o.signal }).catch(() => undefined);
  }
}

/**
 * One global round: opens the regional round on the global model (by the global round's deadline,
 * less time to send the aggregate up) and, once it has closed, sends its aggregate up with the
 * region's rows as its weight. False while the regional round is still open (or aggregated nothing).
 */
async function relayRound(o: RegionRelayOptions, task: Extract<Task, { kind: "train" }>): Promise<boolean> {
  const before = o.global.traffic.down;
  // The global model is downloaded once per round, when the regional round is opened on it.
  if (!(await regionalRoundOpened(o.deps, task.round))) {
    const model = decodeUpdate(await o.global.download(task.model), { length: task.layout.bodySize, codec: "float32" }).values;
    await openRegionalRound(o.deps, { round: task.round, version: task.model.version, model, preprocessing: task.preprocessing, deadline: task.deadline - SEND_MARGIN_MS });
  }
  const aggregate = await regionalAggregate(o.deps, task.round);
  if (aggregate === null) return false;
  if (aggregate === "skipped") {
    o.logger.warn("regional round aggregated nothing; the global round goes on without the region", { region: o.region, round: task.round });
    return false;
  }
  if (aggregate.manifest.baseVersion !== task.model.version) {
    throw new ConsiliumError("REGION_MISMATCH", `the region's round ${task.round} trained from model ${aggregate.manifest.baseVersion}, the global round from ${task.model.version}`, 500);
  }
  // Regions run float32 (createFederation refuses other codecs): the aggregate goes up as it is.
  const bytes = aggregate.bytes;
  const multipart = await o.global.sendUpdate(task.upload, bytes);
  await o.global.postUpdate({
    round: task.round,
    samples: aggregate.manifest.samples,
    codec: task.codec,
    byteLength: bytes.length,
    sha256: sha256Hex(bytes),
    ...(aggregate.baseMetrics && { baseMetrics: aggregate.baseMetrics }),
    ...(aggregate.baseClasses && { baseClasses: aggregate.baseClasses }),
    bytesDown: o.global.traffic.down - before,
    ...multipart,
  });
  return true;
}
