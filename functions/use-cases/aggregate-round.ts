import { ConsiliumError } from "../../core/errors.ts";
import { updateShape } from "./update-shape.ts";
import { Preprocessing } from "../../core/schemas/preprocessing.ts";
import { RoundRecord, StoredUpdate, type AggregateJob, type AuditRecord } from "../../core/schemas/round.ts";
import { applyReputation } from "../../core/scoring/reputation.ts";
import { encodeState } from "../../core/strategy/state-codec.ts";
import type { SiteUpdate } from "../../core/strategy/strategy.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { mustReadJson, writeJson } from "../repo.ts";
import { loadFederation, maxUpdateAbsOf } from "./load-federation.ts";
import { loadStrategyState } from "./load-strategy-state.ts";
import { loadModel, saveModel } from "./models.ts";
import { beginAggregation } from "./begin-aggregation.ts";
import { advance } from "./open-round.ts";
import { recordRejection } from "./record-rejection.ts";
import { loadReputation, scoreRound } from "./score-round.ts";
import { verifyUpdate } from "./verify-update.ts";

export type AggregateOutcome = "aggregated" | "skipped" | "already-done";

/** Why a round whose strategy produced Inf or NaN is skipped; the next round trains from the same base. */
export const NOT_FINITE = "aggregate is not finite";

/**
 * The aggregate job: fixes the round's set of updates, re-verifies the copy of each kept on
 * acceptance against its manifest, applies the strategy with its stored state, writes the next
 * model and opens the next round. A bad update is rejected and recorded; a failure to read one
 * (a transient S3 error) fails the job, which SQS retries, so no site is dropped for it.
 * Delivering the same job twice yields the same model bytes: the update set is fixed once, the
 * updates are taken in site order, and every write of a result is write-once.
 */
export async function aggregateRound(deps: CoordinatorDeps, job: AggregateJob): Promise<AggregateOutcome> {
  const { config, state: federation } = await loadFederation(deps);
  if (job.federation !== config.id) throw new ConsiliumError("WRONG_FEDERATION", `job for ${job.federation}, store holds ${config.id}`, 400);
  const stored = await mustReadJson(deps.store, keys.round(job.round), RoundRecord, "NO_ROUND", `round ${job.round}`);
  // Only the federation's current round may move it on: a round aggregated again (its re-queue raced its close) must not rewind it.
  const isCurrent = federation.phase === "training" && federation.round === job.round;
  if (stored.status === "closed" || stored.status === "skipped") {
    // A delivery that died between closing this round and opening the next must not stall the federation.
    if (isCurrent) await advance(deps, config, job.round + 1, stored.resultVersion ?? stored.baseVersion);
    return "already-done";
  }
  const round = await beginAggregation(deps, stored);
  const prep = await mustReadJson(deps.store, keys.preprocessing, Preprocessing, "NO_PREPROCESSING", "preprocessing");
  const { strategy, layout, length } = updateShape(config, prep);
  const bodySize = layout.bodySize;
  const updates: SiteUpdate[] = [];
  const rejected: NonNullable<RoundRecord["rejected"]> = [];
  for (const siteId of round.included) {
    try {
      const m = await mustReadJson(deps.store, keys.updateManifest(job.round, siteId), StoredUpdate, "MISSING_UPDATE", `manifest of ${siteId}`);
      // The copy taken on acceptance, not the upload key: the site's PUT URL may still be valid.
      const key = keys.acceptedBin(job.round, siteId, m.sha256);
      const missing = `the accepted copy of site ${siteId}'s update for round ${job.round} is missing`;
      const { values } = await verifyUpdate(deps.store, key, { ...m, length, codec: config.codec, maxAbs: maxUpdateAbsOf(config) }, missing);
      const control = strategy.controlVariates ? values.subarray(bodySize) : undefined;
      updates.push({ siteId, delta: values.subarray(0, bodySize), weight: m.samples, ...(control && { control }) });
    } catch (err) {
      if (!(err instanceof ConsiliumError) || err.status < 400 || err.status >= 500) throw err;
      rejected.push({ siteId, code: err.code, message: err.message });
      await recordRejection(deps, { siteId, round: job.round, code: err.code, message: err.message });
    }
  }
  const global = await loadModel(deps, round.baseVersion);
  const state = await loadStrategyState(deps, strategy, round.baseVersion, bodySize);
  // Contribution scoring leaves quarantined sites out and scales down-weighted sites' weights.
  const reputation = config.scoring?.enabled ? await loadReputation(deps, round.baseVersion) : null;
  const { kept, excluded } = reputation ? applyReputation(reputation, updates, job.round) : { kept: updates, excluded: [] };
  const result = strategy.aggregate({ global, updates: kept }, state);
  const now = deps.clock.now();
  const skip = async (reason: string): Promise<AggregateOutcome> => {
    await writeJson(deps.store, keys.round(job.round), { ...round, status: "skipped", rejected, reason, closedAt: now } satisfies RoundRecord);
    if (isCurrent) await advance(deps, config, job.round + 1, round.baseVersion);
    return "skipped";
  };
  if (result.kind === "skip") return skip(result.reason);
  // saveModel refuses a non-finite model (or control): failing the job would fail every redelivery alike and jam the federation.
  if (![result.model, ...Object.values(result.state.vectors)].every((v) => v.every(Number.isFinite))) {
    const message = `round ${job.round}: ${NOT_FINITE} (strategy ${strategy.spec}); skipped, training goes on from model ${round.baseVersion}`;
    await recordRejection(deps, { siteId: null, round: job.round, code: "AGGREGATE_NOT_FINITE", message });
    return skip(NOT_FINITE);
  }
  const used = updates.filter((u) => !excluded.includes(u.siteId));
  const samples = used.reduce((n, u) => n + u.weight, 0);
  const control = strategy.controlVariates ? result.state.vectors.c : undefined;
  await saveModel(deps, result.model, { version: job.round, round: job.round, strategy: strategy.spec, sites: used.map((u) => u.siteId), samples }, control);
  await deps.store.put(keys.strategyState(job.round), encodeState(result.state), { ifAbsent: true });
  const scored = reputation && (await scoreRound(deps, {
      round: job.round,
      reputation,
      updates,
      kept,
      excluded,
      strategy,
      state,
      global,
      model: result.model,
      layout,
      prep,
      options: config.scoring,
    }));
  await writeJson(deps.store, keys.audit(`round-${String(job.round).padStart(6, "0")}`), {
    round: job.round,
    baseVersion: round.baseVersion,
    resultVersion: job.round,
    strategy: strategy.spec,
    included: kept.map((u) => ({ siteId: u.siteId, weight: u.weight })),
    rejected,
    ...(scored && { scoring: { excluded: scored.excluded, decisions: scored.decisions } }),
    at: now,
  } satisfies AuditRecord);
  await writeJson(deps.store, keys.round(job.round), { ...round, status: "closed", rejected, resultVersion: job.round, closedAt: now } satisfies RoundRecord);
  if (isCurrent) await advance(deps, config, job.round + 1, job.round);
  deps.logger.info("round aggregated", { round: job.round, sites: kept.length, rejected: rejected.length, ...(scored && { quarantined: excluded.length }) });
  return "aggregated";
}
