/**
 * @module
 * One hospital's runner: asks the coordinator what to do, does it on local data, and sends back
 * only statistics, body deltas and evaluation counts. Records never leave this process.
 */
import { ConsiliumError } from "../../core/errors.ts";
import { silentLogger, type Logger } from "../../core/logger.ts";
import { computeSiteStats, withOutOfRange } from "../../core/preprocess/site-stats.ts";
import { noisySiteStats } from "../../core/preprocess/noisy-stats.ts";
import { secureNormal } from "../privacy/secure-noise.ts";
import { keptRelease } from "../privacy/stats-release.ts";
import type { SiteData } from "../data/builtin-datasets.ts";
import type { Table } from "../../core/preprocess/table.ts";
import { z } from "zod";
import { SiteEvaluation, type Task } from "../../core/schemas/task.ts";
import type { SiteStats } from "../../core/schemas/site-stats.ts";
import type { Attack } from "../simulation/attack.ts";
import { pause } from "../../client/api.ts";
import type { CoordinatorClient } from "../../client/coordinator-client.ts";
import { evaluateStep } from "../training/evaluate-step.ts";
import { absentLine, checkColumns, DataSummary, summariseSiteData } from "./check-columns.ts";
import { createSession } from "./site-session.ts";
import { lockFolder } from "./folder-lock.ts";
import { ensureStateDir, sweepPartials } from "./state-files.ts";
import { claimStateDir, recordPersonalModel } from "./state-owner.ts";
import { trainStep } from "../training/train-step.ts";
import { pullChampion } from "../training/install-champion.ts";
import type { FeatureSpec } from "../../core/schemas/feature-spec.ts";
import { checkInStep, dataDigest } from "./check-in-step.ts";
import { advertiseStep, forgetRound, registerStep, shareStep, unmaskStep } from "../secure/secure-step.ts";
import type { SiteSpeed } from "../simulation/site-speed.ts";

/** What a runner tells whoever hosts it; crosses a worker-thread boundary, hence a schema. */
export const RunnerEvent = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("stats"), rows: z.number().int().nonnegative(), data: DataSummary.optional() }),
  z.object({ kind: z.literal("trained"), round: z.number().int().positive(), rounds: z.number().int().positive(), loss: z.number(), bytesUp: z.number().int().nonnegative() }),
  z.object({ kind: z.literal("evaluated"), evaluation: SiteEvaluation }),
  z.object({ kind: z.literal("skipped"), round: z.number().int().nonnegative(), code: z.string(), message: z.string() }),
  z.object({ kind: z.literal("checked-in"), flags: z.number().int().nonnegative(), reasons: z.array(z.string()), excluded: z.boolean(), triggered: z.array(z.string()) }),
  z.object({ kind: z.literal("installed"), version: z.number().int().positive(), previous: z.number().int().positive().nullable(), choice: z.enum(["personal", "global"]), reason: z.string() }),
]);
export type RunnerEvent = z.infer<typeof RunnerEvent>;

export interface SiteRunnerOptions {
  readonly siteId: string;
  readonly client: CoordinatorClient;
  readonly data: { readonly train: Table; readonly test: Table; readonly outOfRange?: SiteData["outOfRange"]; readonly units?: SiteData["units"] };
  /** Where the personal head and last global body are kept; nothing is written without it. */
  readonly stateDir?: string;
  readonly logger?: Logger;
  readonly onEvent?: (event: RunnerEvent) => void;
  readonly signal?: AbortSignal;
  /** Simulation only: make this site malicious (the attack lab). */
  readonly attack?: Attack;
  /** This site's own cap on ε under a privacy policy, when it is below the consortium's. */
  readonly privacyCap?: number;
  /** Simulation only: how much slower this site computes and communicates (`site-speed.ts`). */
  readonly speed?: SiteSpeed;
  /** Simulation only: secure rounds in which this site drops out after uploading its masked input (it never answers the unmasking). */
  readonly dropRounds?: readonly number[];
  /** For audits and tests: the codes this site masked in each secure round, and the masked vector it uploaded. */
  readonly onMasked?: (round: number, codes: Uint32Array, masked: Uint32Array) => void;
  /**
   * The long-running mode: the runner does not stop when a run is done. It joins each new run the
   * consortium starts (asking for a task every `idleMs` between runs, default 30 s), and (with a
   * state folder) pulls the champion whenever it changes, checked every `pullEveryMs` (default
   * 60 s) and once as each run ends, until `signal` aborts.
   */
  readonly follow?: {
    readonly pullEveryMs?: number;
    readonly idleMs?: number;
    /** Between runs, how often the site checks in with its current statistics (default 1 hour; `check-in-step.ts`). */
    readonly checkInEveryMs?: number;
    /** The data version a check-in names (default: a digest of the rows). */
    readonly dataVersion?: string;
  };
}


/** How long a site waits before asking again after a refused secure-aggregation step. */
const SECURE_RETRY_MS = 250;

/**
 * A training round whose update the coordinator refused (422: out of range, a mismatch) is tried
 * this many times in all (a second try covers a transfer that went wrong); then the site sits the
 * round out instead of retraining the same refused step until the deadline, asking again after
 * TRAIN_REFUSED_RETRY_MS, twice as long each time up to TRAIN_REFUSED_MAX_MS (each ask presigns
 * an upload), until the round moves on.
 */
const MAX_TRAIN_REFUSALS = 2;
const TRAIN_REFUSED_RETRY_MS = 1_000;
const TRAIN_REFUSED_MAX_MS = 30_000;

/**
 * Transfers through presigned URLs that failed after the client's own retries: a URL may have
 * expired while the store or the coordinator was away, so the runner asks for its task again (with
 * fresh URLs), this many times in a row before the failure stands.
 */
const STORE_FAILURES = new Set(["UPLOAD_FAILED", "MODEL_DOWNLOAD_FAILED", "STORE_UNREACHABLE"]);
const MAX_STORE_FAILURES = 3;
const STORE_RETRY_MS = 1_000;

/**
 * Runs until the federation is done (with `follow`, until `signal` aborts); returns this site's
 * last evaluation. With a state folder,
 * holds its lock throughout (released however the run ends) and refuses another site's folder.
 */
export async function runSite(options: SiteRunnerOptions): Promise<SiteEvaluation | null> {
  const dir = options.stateDir;
  if (!dir) return runSteps(options);
  // Owner-only from the start: what the site keeps is trained on patient rows.
  await ensureStateDir(dir);
  const lock = await lockFolder(dir, { rule: "one site runner per state folder" });
  try {
    if (lock.tookOver) (options.logger ?? silentLogger).warn(lock.tookOver);
    await claimStateDir(dir, options.siteId);
    // Only under the lock: another runner's partial files are its writes in flight.
    await sweepPartials(dir);
    return await runSteps(options);
  } finally {
    await lock.release();
  }
}

async function runSteps(options: SiteRunnerOptions): Promise<SiteEvaluation | null> {
  const { client, siteId, data, signal } = options;
  const logger = options.logger ?? silentLogger;
  // The federation the last training or statistics task named: the saved personal model's, once evaluated.
  let federation: string | undefined;
  const newSession = () => createSession(siteId, client, data, options.stateDir, options.attack, logger, options.privacyCap, options.speed, options.onMasked);
  let session = newSession();
  const drops = new Set(options.dropRounds ?? []);
  const dropped = new Set<number>();
  const sitOut = new Set<number>();
  const refusals = new Map<number, number>();
  let evaluation: SiteEvaluation | null = null;
  let noisyRelease: SiteStats | null = null;
  let storeFailures = 0;
  const follow = options.follow;
  let lastPull = Number.NEGATIVE_INFINITY;
  const pull = async () => {
    if (!follow || !options.stateDir) return;
    lastPull = Date.now();
    try {
      const outcome = await pullChampion(session, options.stateDir);
      if (outcome.kind === "installed") options.onEvent?.({ kind: "installed", version: outcome.version, previous: outcome.previous, choice: outcome.choice, reason: outcome.reason });
    } catch (err) {
      // The installed model stays: a site is never without one.
      logger.warn("pulling the champion failed; the installed model stays", { siteId, error: (err as Error).message });
    }
  };
  // The features and noise of the consortium's last statistics task: what a check-in between runs reports.
  let features: FeatureSpec | null = null;
  let noisy = false;
  let lastCheckIn = Number.NEGATIVE_INFINITY;
  const dataVersion = follow?.dataVersion ?? (follow ? dataDigest([data.train, data.test]) : "");
  const checkIn = async () => {
    if (!follow || features === null || noisy || Date.now() - lastCheckIn < (follow.checkInEveryMs ?? 3_600_000)) return;
    lastCheckIn = Date.now();
    try {
      const answer = await checkInStep(session, data, features, dataVersion, options.stateDir);
      options.onEvent?.({ kind: "checked-in", flags: answer.flags.filter((f) => f.severity === "act").length, reasons: answer.reasons, excluded: answer.excluded, triggered: answer.triggered });
    } catch (err) {
      logger.warn("checking in failed; the next check-in tries again", { siteId, error: (err as Error).message });
    }
  };
  // Between runs: set when the run in hand is done, so the champion is pulled once at once (its gate may just have moved it).
  let idle = false;
  while (!signal?.aborted) {
    if (follow && Date.now() - lastPull >= (follow.pullEveryMs ?? 60_000)) await pull();
    const task: Task = await client.task();
    if (task.kind === "done") {
      await forgetRound(session);
      // A later run numbers its rounds from 1 again: what this one's rounds were refused does not carry over.
      refusals.clear();
      sitOut.clear();
      if (!follow) return evaluation;
      if (!idle) await pull();
      idle = true;
      await checkIn();
      await pause(follow.idleMs ?? 30_000, signal);
      continue;
    }
    idle = false;
    // A new run: what this site kept for the last one (its noisy release, its secure rounds) does not carry over.
    const named = task.kind === "train" || task.kind === "stats" ? task.federation : undefined;
    if (follow && named !== undefined && federation !== undefined && named !== federation) {
      logger.info("joining a new run", { siteId, run: named, previous: federation });
      session = newSession();
      noisyRelease = null;
      sitOut.clear();
      refusals.clear();
      dropped.clear();
      evaluation = null;
    }
    // A secure round this site could not go on with: it waits for the round to move on instead of trying again.
    const secureRound = task.kind.startsWith("secure-") || (task.kind === "train" && task.secure) ? (task as { round: number }).round : null;
    if (secureRound !== null && sitOut.has(secureRound)) {
      await pause(SECURE_RETRY_MS, signal);
      continue;
    }
    if (task.kind === "wait") {
      await pause(task.retryAfterMs, signal);
      continue;
    }
    const refused = task.kind === "train" && !task.secure ? (refusals.get(task.round) ?? 0) : 0;
    if (refused >= MAX_TRAIN_REFUSALS) {
      refusals.set((task as { round: number }).round, refused + 1);
      await pause(Math.min(TRAIN_REFUSED_MAX_MS, TRAIN_REFUSED_RETRY_MS * 2 ** (refused - MAX_TRAIN_REFUSALS)), signal);
      continue;
    }
    if ((task.kind === "train" || task.kind === "stats") && task.federation !== undefined) federation = task.federation;
    try {
      if (task.kind === "identity") {
        await registerStep(session);
      } else if (task.kind === "secure-advertise") {
        await forgetRound(session, task.round);
        await advertiseStep(session, task);
      } else if (task.kind === "secure-share") {
        await shareStep(session, task);
      } else if (task.kind === "secure-unmask") {
        if (drops.has(task.round)) {
          // A simulated dropout: gone after its upload, the site never answers this round's unmasking.
          if (!dropped.has(task.round)) logger.warn("dropping out of the round after the masked upload (simulated)", { siteId, round: task.round });
          dropped.add(task.round);
          await pause(SECURE_RETRY_MS, signal);
          continue;
        }
        await unmaskStep(session, task);
      } else if (task.kind === "stats") {
        features = task.features;
        noisy = task.noise !== undefined;
        // A column the spec names and this site lacks: the site provides no value of that feature. No label column, or another unit: refused.
        const check = checkColumns(data.train, task.features, data.units);
        const { absent } = check;
        const lacking = absentLine(check);
        if (lacking) logger.warn(lacking, { siteId });
        for (const line of check.unitWarnings) logger.warn(line, { siteId });
        // Under a noise policy the statistics are bounded and noised; refused readings are not reported.
        // One noisy release per site (kept under the state folder): a retried post or a restarted runner re-sends it rather than drawing (and spending) again.
        const noise = task.noise;
        const stats = noise
          ? (noisyRelease ??= await keptRelease(options.stateDir, { federation: task.federation ?? "", noise }, () => noisySiteStats(computeSiteStats(data.train, task.features, { bounded: true }), task.features, noise, secureNormal, absent.map((f) => f.name))))
          : withOutOfRange(computeSiteStats(data.train, task.features), data.outOfRange);
        await client.postStats(stats);
        options.onEvent?.({ kind: "stats", rows: stats.rows, data: summariseSiteData(data.train, task.features, check) });
      } else if (task.kind === "train") {
        const step = await trainStep(session, task);
        if (step.kind === "declined") {
          logger.warn("round declined: privacy budget", { siteId, round: task.round, epsilon: step.privacy.epsilon, budget: step.privacy.budget });
          options.onEvent?.({ kind: "skipped", round: task.round, code: "PRIVACY_BUDGET_EXHAUSTED", message: step.message });
        } else {
          options.onEvent?.({ kind: "trained", round: task.round, rounds: task.rounds, loss: step.loss, bytesUp: step.bytesUp });
        }
      } else {
        await forgetRound(session);
        evaluation = await evaluateStep(session, task);
        if (options.stateDir) await recordPersonalModel(options.stateDir, siteId, federation === undefined ? undefined : { federation, modelVersion: evaluation.modelVersion });
        options.onEvent?.({ kind: "evaluated", evaluation });
      }
      storeFailures = 0;
    } catch (err) {
      if (err instanceof ConsiliumError && STORE_FAILURES.has(err.code) && ++storeFailures < MAX_STORE_FAILURES) {
        logger.warn("a transfer through the store failed; asking for the task again", { siteId, code: err.code, message: err.message });
        await pause(STORE_RETRY_MS, signal);
        continue;
      }
      // The coordinator refused this step (round closed meanwhile, duplicate), or this round's
      // update (out of range…, recorded in its rejections): ask for the next task.
      if (err instanceof ConsiliumError && (err.status === 409 || (err.status === 422 && (task.kind === "train" || task.kind.startsWith("secure"))))) {
        logger.warn("coordinator refused a step", { siteId, code: err.code, message: err.message });
        const round = "round" in task ? task.round : 0;
        options.onEvent?.({ kind: "skipped", round, code: err.code, message: err.message });
        // A refused secure step is not tried again: the site sits the round out (as a dropout) and waits for the next.
        if (secureRound !== null) {
          sitOut.add(secureRound);
          await pause(SECURE_RETRY_MS, signal);
        } else if (task.kind === "train" && err.status === 422) {
          refusals.set(task.round, (refusals.get(task.round) ?? 0) + 1);
          if (refusals.get(task.round) === MAX_TRAIN_REFUSALS) logger.warn("sitting the round out: its update was refused", { siteId, round: task.round, code: err.code });
        }
        continue;
      }
      throw err;
    }
  }
  return evaluation;
}

