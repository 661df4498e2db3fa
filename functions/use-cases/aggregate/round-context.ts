/**
 * @module
 * What every path of the aggregate job shares: the round being aggregated, its fixed update set,
 * the federation's strategy and shapes, the rejections recorded so far, and the two ways a round
 * ends without a model (skipped) or moves the federation on (the next round).
 */
import { ConsiliumError } from "../../../core/errors.ts";
import type { Layout } from "../../../core/model/layout.ts";
import type { FederationConfig } from "../../../core/schemas/federation.ts";
import { Preprocessing } from "../../../core/schemas/preprocessing.ts";
import type { PrivacySpent } from "../../../core/schemas/privacy.ts";
import { RoundRecord, StoredUpdate, type AggregateJob } from "../../../core/schemas/round.ts";
import type { Reputation } from "../../../core/scoring/index.ts";
import type { AggregateResult, SiteUpdate, Strategy, StrategyState } from "../../../core/strategy/strategy.ts";
import { stalenessWeight } from "../../../core/async/staleness-weight.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { mustReadJson, writeJson } from "../../repo.ts";
import { beginAggregation } from "../begin-aggregation.ts";
import { loadFederation } from "../load-federation.ts";
import { advance } from "../open-round.ts";
import { recordRejection } from "../record-rejection.ts";
import { markSecureAggregating } from "../secure/phases.ts";
import { updateShape } from "../update-shape.ts";
import { auditCoordinator } from "../audit/append-audit.ts";
import { finishDeclinedStop } from "../stop-declined-round.ts";
import { summariseRound } from "../round-summary.ts";

export type AggregateOutcome = "aggregated" | "skipped" | "already-done";

export interface RoundContext {
  readonly deps: CoordinatorDeps;
  readonly job: AggregateJob;
  /** The round record, its update set fixed. */
  readonly round: RoundRecord & { readonly included: readonly string[] };
  readonly baseVersion: number;
  readonly config: FederationConfig;
  readonly prep: Preprocessing;
  readonly strategy: Strategy;
  readonly layout: Layout;
  readonly bodySize: number;
  readonly length: number;
  /** Every update rejected so far, for the round record. */
  readonly rejected: NonNullable<RoundRecord["rejected"]>;
  /** Rejects a site's update and records why. */
  reject(siteId: string, err: ConsiliumError): Promise<void>;
  /** Filled with each site's privacy ledger as its manifest reports it. */
  readonly privacy: Map<string, PrivacySpent>;
  /** Filled with each site's training rows as its manifest reports them. */
  readonly rows: Map<string, number>;
  /** Closes the round without a model, with the reason, and moves on from its base model. */
  skip(reason: string): Promise<AggregateOutcome>;
  /** Opens the round after this one on model `version`, when this round is the federation's current one. */
  next(version: number): Promise<void>;
}

/** What a path of the aggregate job answers: the strategy's result and what the round record, audit and scoring need of it. */
export interface Aggregated {
  readonly result: AggregateResult;
  /** The sites aggregated and their weights (samples, scaled by reputation when scoring is on). */
  readonly kept: readonly { readonly siteId: string; readonly weight: number }[];
  /** Sites in quarantine, left out. */
  readonly excluded: readonly string[];
  readonly state: StrategyState;
  readonly global: Float32Array;
  /** What contribution scoring reads, when it is on: every decoded update and those aggregated. */
  readonly scoring?: { readonly reputation: Reputation; readonly updates: SiteUpdate[]; readonly kept: SiteUpdate[] };
}

/**
 * Reads the job's round and fixes its update set (`beginAggregation`), or answers
 * `"already-done"` for a round a delivery already closed or skipped — opening the next round
 * first, should that delivery have died between the two.
 */
export async function openRoundContext(deps: CoordinatorDeps, job: AggregateJob): Promise<RoundContext | "already-done"> {
  const { config, state: federation } = await loadFederation(deps);
  if (job.federation !== config.id) throw new ConsiliumError("WRONG_FEDERATION", `job for ${job.federation}, store holds ${config.id}`, 400);
  const read = await mustReadJson(deps.store, keys.round(job.round), RoundRecord, "NO_ROUND", `round ${job.round}`);
  // A secure round's job may arrive before its round was marked: its set is the masked inputs the phases took.
  const stored = config.secureAggregation ? await markSecureAggregating(deps, read) : read;
  // Only the federation's current round may move it on: a round aggregated again (its re-queue raced its close) must not rewind it.
  const isCurrent = federation.phase === "training" && federation.round === job.round;
  // A region's relay, not its aggregator, opens its next round (with the global model).
  const next = async (version: number) => {
    if (isCurrent && !config.upstream) await advance(deps, config, job.round + 1, version);
  };
  // A round every site declined stops the run's training instead of opening the next round (`stop-declined-round.ts`).
  if (stored.stop === "declined" && stored.status !== "closed" && (stored.included?.length ?? 0) === 0) {
    if (stored.status !== "skipped") await writeJson(deps.store, keys.round(job.round), { ...stored, included: [], status: "skipped", closedAt: deps.clock.now() } satisfies RoundRecord);
    if (isCurrent) await finishDeclinedStop(deps, config, stored);
    await summariseRound(deps, job.round);
    return "already-done";
  }
  if (stored.status === "closed" || stored.status === "skipped") {
    await next(stored.resultVersion ?? stored.baseVersion);
    // A job delivered again after a crash between the close and its summary writes the summary.
    await summariseRound(deps, job.round);
    return "already-done";
  }
  const round = await beginAggregation(deps, stored);
  const prep = await mustReadJson(deps.store, keys.preprocessing, Preprocessing, "NO_PREPROCESSING", "preprocessing");
  const { strategy, layout, length } = updateShape(config, prep);
  const rejected: NonNullable<RoundRecord["rejected"]> = [];
  const reject = async (siteId: string, err: ConsiliumError) => {
    rejected.push({ siteId, code: err.code, message: err.message });
    await recordRejection(deps, { siteId, round: job.round, code: err.code, message: err.message });
  };
  const skip = async (reason: string): Promise<AggregateOutcome> => {
    await writeJson(deps.store, keys.round(job.round), { ...round, status: "skipped", rejected, reason, closedAt: deps.clock.now() } satisfies RoundRecord);
    await auditCoordinator(deps, "round.skip", `round/${job.round}`, { reason, rejected: rejected.map((r) => ({ siteId: r.siteId, code: r.code })) });
    await next(round.baseVersion);
    await summariseRound(deps, job.round);
    return "skipped";
  };
  return { deps, job, round, baseVersion: round.baseVersion, config, prep, strategy, layout, bodySize: layout.bodySize, length, rejected, reject, privacy: new Map(), rows: new Map(), skip, next };
}

/** A 4xx `ConsiliumError` is the site's fault and rejects its update; anything else fails the job, which SQS retries. */
export function isRejection(err: unknown): err is ConsiliumError {
  return err instanceof ConsiliumError && err.status >= 400 && err.status < 500;
}

/**
 * Reads each included site's manifest and hands it to `use` with the key of the copy taken on
 * acceptance (not the upload key: the site's PUT URL may still be valid), noting the site's rows
 * and privacy ledger once `use` has taken it; a 4xx failure of either rejects the site's update.
 */
export async function eachUpdate({ deps, job, round, reject, rows, privacy, config, baseVersion }: RoundContext, use: (siteId: string, m: StoredUpdate, key: string) => Promise<void>): Promise<void> {
  for (const siteId of round.included) {
    try {
      const m = await mustReadJson(deps.store, keys.updateManifest(job.round, siteId), StoredUpdate, "MISSING_UPDATE", `manifest of ${siteId}`);
      const staleness = baseVersion - (m.baseVersion ?? baseVersion);
      if (config.async && staleness > config.async.maxStaleness) {
        throw new ConsiliumError("STALE_UPDATE", `the update of site ${siteId} was trained from model ${m.baseVersion}, ${staleness} versions behind this round's ${baseVersion}; the bound is ${config.async.maxStaleness}`, 409);
      }
      await use(siteId, m, keys.acceptedBin(job.round, siteId, m.sha256));
      rows.set(siteId, m.samples);
      if (m.privacy) privacy.set(siteId, m.privacy);
    } catch (err) {
      if (!isRejection(err)) throw err;
      await reject(siteId, err);
    }
  }
}

export function missingMessage(siteId: string, round: number): string {
  return `the accepted copy of site ${siteId}'s update for round ${round} is missing`;
}

/**
 * A site's weight in the mean: its samples, or 1 each under client-level privacy, whose noise is
 * calibrated to the sum of equally weighted, clipped updates (weighting by the sites' row counts
 * would scale one site's influence, and so the sensitivity, past the clip). In asynchronous
 * rounds, times the policy's weight for the update's staleness against the round's base.
 */
export function weightOf(config: FederationConfig, m: StoredUpdate, baseVersion: number): number {
  const weight = config.privacy?.level === "client" ? 1 : m.samples;
  if (!config.async || m.baseVersion === undefined) return weight;
  return weight * stalenessWeight(baseVersion - m.baseVersion, config.async.weighting);
}
