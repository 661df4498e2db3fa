import { ConsiliumError } from "../../core/errors.ts";
import { updateShape } from "./update-shape.ts";
import { Preprocessing } from "../../core/schemas/preprocessing.ts";
import { RoundRecord, StoredUpdate, type AggregateJob, type AuditRecord, type RegionalAggregate } from "../../core/schemas/round.ts";
import { applyReputation } from "../../core/scoring/reputation.ts";
import { encodeState } from "../../core/strategy/state-codec.ts";
import type { AggregateResult, SiteUpdate, Strategy, StrategyState } from "../../core/strategy/strategy.ts";
import { CodecSpec, encodeUpdate, formatCodecSpec, sha256Hex } from "../../core/codec/index.ts";
import { downlinkCodecOf, type FederationConfig } from "../../core/schemas/federation.ts";
import type { PrivacySpent } from "../../core/schemas/privacy.ts";
import type { Reputation } from "../../core/scoring/index.ts";
import { streamingMean, type UpdateSource } from "../../core/sum/streaming-mean.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { mustReadJson, writeJson } from "../repo.ts";
import { loadFederation, maxUpdateAbsOf } from "./load-federation.ts";
import { loadStrategyState } from "./load-strategy-state.ts";
import { loadDownlinkResidual, loadModel, saveModel, type DownlinkDelta } from "./models.ts";
import { downlinkStep } from "../../core/model/downlink.ts";
import { stalenessWeight } from "../../core/async/staleness-weight.ts";
import { seededRandom } from "../../core/model/init-params.ts";
import { taskSeed } from "../../core/schemas/task-seed.ts";
import { beginAggregation } from "./begin-aggregation.ts";
import { advance } from "./open-round.ts";
import { recordRejection } from "./record-rejection.ts";
import { loadReputation, scoreRound } from "./score-round.ts";
import { verifyUpdate } from "./verify-update.ts";
import { readSecureInputs } from "./secure-round.ts";
import { acceptMaskedInput, addWrapping, readMasked, SecAggError, secureMean, unmaskSum } from "../../core/secagg/index.ts";
import { seededSubset } from "../../core/codec/seeded-subset.ts";

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
  // A region's relay, not its aggregator, opens its next round (with the global model).
  const next = async (version: number) => {
    if (isCurrent && !config.upstream) await advance(deps, config, job.round + 1, version);
  };
  if (stored.status === "closed" || stored.status === "skipped") {
    // A delivery that died between closing this round and opening the next must not stall the federation.
    await next(stored.resultVersion ?? stored.baseVersion);
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
  const privacy = new Map<string, PrivacySpent>();
  const rows = new Map<string, number>();
  const ctx = { deps, job, included: round.included, baseVersion: round.baseVersion, privacy, rows, config, strategy, bodySize: layout.bodySize, length, reject };
  // Contribution scoring compares every update with the others, so it needs them all decoded at once.
  const streamed = strategy.fromMean !== undefined && !config.scoring?.enabled;
  const skip = async (reason: string): Promise<AggregateOutcome> => {
    await writeJson(deps.store, keys.round(job.round), { ...round, status: "skipped", rejected, reason, closedAt: deps.clock.now() } satisfies RoundRecord);
    await next(round.baseVersion);
    return "skipped";
  };
  if (config.upstream) {
    // The region's own server step would be discarded: the mean goes up before any strategy state is read.
    // Under secure aggregation the region's coordinator unmasks only its sites' sum, and sends its mean up.
    const regional = config.secureAggregation ? await secureMeanOf(ctx) : await streamedMean(ctx);
    if ("reason" in regional) return skip(regional.reason);
    const { kept, mean } = regional;
    if (kept.length < MIN_REGIONAL_SITES) return skip(`${kept.length} valid update(s): a region sends up the mean of at least ${MIN_REGIONAL_SITES} sites, never one site's update`);
    const samples = kept.reduce((n, u) => n + (rows.get(u.siteId) ?? 0), 0);
    await publishRegional(deps, { round: job.round, baseVersion: round.baseVersion, samples, sites: kept.map((u) => u.siteId) }, mean);
    await writeJson(deps.store, keys.round(job.round), { ...round, status: "closed", rejected, closedAt: deps.clock.now() } satisfies RoundRecord);
    deps.logger.info("regional round aggregated", { round: job.round, sites: kept.length, samples });
    return "aggregated";
  }
  const { result, kept, excluded, state, global, scoring } = config.secureAggregation ? await secureRound(ctx) : streamed ? await streamedRound(ctx) : await decodedRound(ctx);
  const now = deps.clock.now();
  if (result.kind === "skip") return skip(result.reason);
  // saveModel refuses a non-finite model (or control): failing the job would fail every redelivery alike and jam the federation.
  if (![result.model, ...Object.values(result.state.vectors)].every((v) => v.every(Number.isFinite))) {
    const message = `round ${job.round}: ${NOT_FINITE} (strategy ${strategy.spec}); skipped, training goes on from model ${round.baseVersion}`;
    await recordRejection(deps, { siteId: null, round: job.round, code: "AGGREGATE_NOT_FINITE", message });
    return skip(NOT_FINITE);
  }
  const used = kept.filter((u) => !excluded.includes(u.siteId));
  const samples = used.reduce((n, u) => n + (rows.get(u.siteId) ?? 0), 0);
  const control = strategy.controlVariates ? result.state.vectors.c : undefined;
  const { model, delta } = await downlink(deps, config, job.round, round.baseVersion, global, result.model);
  await saveModel(deps, model, { version: job.round, round: job.round, strategy: strategy.spec, sites: used.map((u) => u.siteId), samples }, control, delta);
  await deps.store.put(keys.strategyState(job.round), encodeState(result.state), { ifAbsent: true });
  const scored = scoring && (await scoreRound(deps, {
      round: job.round,
      reputation: scoring.reputation,
      updates: scoring.updates,
      kept: scoring.kept,
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
    ...(config.privacy && {
      privacy: {
        spent: used.flatMap((u) => {
          const p = privacy.get(u.siteId);
          return p ? [{ siteId: u.siteId, ...p }] : [];
        }),
        declined: (await deps.store.list(keys.declinesPrefix(job.round))).map((k) => k.slice(keys.declinesPrefix(job.round).length, -".json".length)),
      },
    }),
    at: now,
  } satisfies AuditRecord);
  await writeJson(deps.store, keys.round(job.round), { ...round, status: "closed", rejected, resultVersion: job.round, closedAt: now } satisfies RoundRecord);
  await next(job.round);
  deps.logger.info("round aggregated", { round: job.round, sites: kept.length, rejected: rejected.length, ...(scored && { quarantined: excluded.length }) });
  return "aggregated";
}

interface RoundContext {
  readonly deps: CoordinatorDeps;
  readonly job: AggregateJob;
  readonly included: readonly string[];
  readonly baseVersion: number;
  readonly config: FederationConfig;
  readonly strategy: Strategy;
  readonly bodySize: number;
  readonly length: number;
  reject(siteId: string, err: ConsiliumError): Promise<void>;
  /** Filled with each site's privacy ledger as its manifest reports it. */
  readonly privacy: Map<string, PrivacySpent>;
  /** Filled with each site's training rows as its manifest reports them. */
  readonly rows: Map<string, number>;
}

interface Aggregated {
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

/** A 4xx `ConsiliumError` is the site's fault and rejects its update; anything else fails the job, which SQS retries. */
function isRejection(err: unknown): err is ConsiliumError {
  return err instanceof ConsiliumError && err.status >= 400 && err.status < 500;
}

/**
 * Decodes every update, then applies the strategy: what robust aggregators (median, geomed…) and
 * contribution scoring need, at the cost of one float32 copy of the model per site.
 */
async function decodedRound(ctx: RoundContext): Promise<Aggregated> {
  const { deps, job, baseVersion, config, strategy, bodySize, length } = ctx;
  const updates: SiteUpdate[] = [];
  await eachUpdate(ctx, async (siteId, m, key) => {
    const { values } = await verifyUpdate(deps.store, key, { ...m, length, codec: config.codec, maxAbs: maxUpdateAbsOf(config) }, missingMessage(siteId, job.round));
    const control = strategy.controlVariates ? values.subarray(bodySize) : undefined;
    updates.push({ siteId, delta: values.subarray(0, bodySize), weight: weightOf(config, m, baseVersion), ...(control && { control }) });
  });
  const global = await loadModel(deps, baseVersion);
  const state = await loadStrategyState(deps, strategy, baseVersion, bodySize);
  // Contribution scoring leaves quarantined sites out and scales down-weighted sites' weights.
  const reputation = config.scoring?.enabled ? await loadReputation(deps, baseVersion) : null;
  const { kept, excluded } = reputation ? applyReputation(reputation, updates, job.round) : { kept: updates, excluded: [] };
  const result = strategy.aggregate({ global, updates: kept }, state);
  return { result, kept, excluded, state, global, ...(reputation && { scoring: { reputation, updates, kept } }) };
}

/**
 * Streams every update into its sample-weighted mean (`streamingMean`), then lets the strategy
 * finish from the mean: for strategies that are the mean and a server step. It holds the sum and
 * one piece per site read side by side instead of every site's float32 copy (see the README's
 * memory bound); a bad update is rejected as on the decoded path.
 */
async function streamedRound(ctx: RoundContext): Promise<Aggregated> {
  const { deps, baseVersion, strategy, bodySize } = ctx;
  const { kept, mean } = await streamedMean(ctx);
  const global = await loadModel(deps, baseVersion);
  const state = await loadStrategyState(deps, strategy, baseVersion, bodySize);
  const result: AggregateResult =
    kept.length === 0
      ? { kind: "skip", reason: "no valid updates", state }
      : strategy.fromMean!(global, { siteId: "mean", weight: 1, delta: mean.subarray(0, bodySize), ...(strategy.controlVariates && { control: mean.subarray(bodySize) }) }, state);
  return { result, kept, excluded: [], state, global };
}

/**
 * A secure round (`secure-round.ts`): adds up the accepted masked inputs mod 2^32 as they are read
 * (each checked again against its signed manifest), removes the masks with the shares the
 * unmasking phase collected (`unmaskSum`) and decodes the sum into the weighted mean
 * (`secureMean`). No single update is ever decoded. When the shares cannot rebuild a secret the
 * sum needs, the answer is the reason, recorded, and the round is to be skipped.
 */
async function secureMeanOf(ctx: RoundContext): Promise<{ kept: { siteId: string; weight: number }[]; mean: Float32Array } | { reason: string }> {
  const { deps, job, length, rows, privacy } = ctx;
  const inputs = await readSecureInputs(deps, job.round);
  const { session } = inputs;
  const { config } = session;
  const maskedSum = new Uint32Array(config.length);
  for (const { siteId, post } of inputs.posts) {
    const bytes = await deps.store.get(keys.acceptedBin(job.round, siteId, post.manifest.sha256));
    if (bytes === null) throw new ConsiliumError("MISSING_UPDATE", missingMessage(siteId, job.round), 500);
    acceptMaskedInput(config, post.manifest, inputs.directory, inputs.shared, bytes);
    addWrapping(maskedSum, readMasked(bytes, config.length, config.quantisation.bits));
  }
  let sum: Uint32Array;
  try {
    sum = unmaskSum(config, { adverts: inputs.adverts, shared: inputs.shared, manifests: inputs.posts.map((p) => p.post.manifest), maskedSum, reveals: inputs.reveals }).sum;
  } catch (err) {
    if (!(err instanceof SecAggError)) throw err;
    await recordRejection(deps, { siteId: null, round: job.round, code: err.code, message: err.message });
    return { reason: `secure aggregation could not unmask the sum: ${err.message}` };
  }
  const index = (siteId: string) => session.participants.indexOf(siteId);
  const max = Math.max(...session.weights);
  const kept = inputs.posts.map(({ siteId }) => ({ siteId, weight: session.weights[index(siteId)]! }));
  for (const { siteId, post } of inputs.posts) {
    rows.set(siteId, session.rows[index(siteId)]!);
    if (post.privacy) privacy.set(siteId, post.privacy);
  }
  const randk = session.randk && { kept: seededSubset(length, session.randk.kept, session.randk.seed), gain: session.randk.gain };
  const mean = secureMean(sum, { spec: config.quantisation, summands: inputs.posts.length, scaleSum: kept.reduce((a, k) => a + k.weight / max, 0), length, ...(randk && { randk }) });
  return { kept, mean };
}

/** A secure round's mean, handed to the strategy to finish (`fromMean`). */
async function secureRound(ctx: RoundContext): Promise<Aggregated> {
  const { deps, baseVersion, strategy, bodySize } = ctx;
  const global = await loadModel(deps, baseVersion);
  const state = await loadStrategyState(deps, strategy, baseVersion, bodySize);
  const secure = await secureMeanOf(ctx);
  if ("reason" in secure) return { result: { kind: "skip", reason: secure.reason, state }, kept: [], excluded: [], state, global };
  const result = strategy.fromMean!(global, { siteId: "mean", weight: 1, delta: secure.mean.subarray(0, bodySize) }, state);
  return { result, kept: secure.kept, excluded: [], state, global };
}

/** Fewest sites whose updates a region's aggregate may hold: one site's update must never leave its region. */
export const MIN_REGIONAL_SITES = 2;

/**
 * The sample-weighted mean of the round's valid updates, streamed (`streamingMean`), with the
 * sites in it; bad updates are rejected and recorded. What a region sends up, and what mean-based
 * strategies finish from.
 */
async function streamedMean(ctx: RoundContext): Promise<{ kept: { siteId: string; weight: number }[]; mean: Float32Array }> {
  const { deps, job, config, length, reject } = ctx;
  const sources: UpdateSource[] = [];
  await eachUpdate(ctx, async (siteId, m, key) => {
    const open = async () => (await deps.store.getStream(key)) ?? fail(new ConsiliumError("MISSING_UPDATE", missingMessage(siteId, job.round), 422));
    sources.push({ id: siteId, weight: weightOf(config, m, ctx.baseVersion), sha256: m.sha256, open });
  });
  const streamed = await streamingMean(sources, { length, codec: CodecSpec.parse(config.codec), maxAbs: maxUpdateAbsOf(config) });
  for (const { source, error } of streamed.rejected) await reject(source.id, error);
  if (streamed.passes > 1) deps.logger.info("updates summed again without rejected ones", { round: job.round, passes: streamed.passes });
  return { kept: streamed.kept.map((s) => ({ siteId: s.id, weight: s.weight })), mean: streamed.mean };
}

/**
 * A region's round result: the weighted mean of its sites' updates and the rows behind it,
 * written once for the region's relay to send to the global coordinator.
 */
async function publishRegional(deps: CoordinatorDeps, meta: Omit<RegionalAggregate, "byteLength" | "sha256">, mean: Float32Array): Promise<void> {
  await deps.store.put(keys.regionalAggregate(meta.round), encodeUpdate(mean, "float32"), { ifAbsent: true, contentType: "application/octet-stream" });
  // The manifest describes the bytes stored, whichever delivery wrote them first.
  const bytes = await deps.store.get(keys.regionalAggregate(meta.round));
  if (!bytes) throw new ConsiliumError("CORRUPT_STATE", `regional aggregate of round ${meta.round} vanished after it was written`, 500);
  const manifest: RegionalAggregate = { ...meta, byteLength: bytes.length, sha256: sha256Hex(bytes) };
  await writeJson(deps.store, keys.regionalAggregateManifest(meta.round), manifest, { ifAbsent: true });
}

/**
 * Reads each included site's manifest and hands it to `use` with the key of the copy taken on
 * acceptance (not the upload key: the site's PUT URL may still be valid), noting the site's rows
 * and privacy ledger once `use` has taken it; a 4xx failure of either rejects the site's update.
 */
async function eachUpdate({ deps, job, included, reject, rows, privacy, config, baseVersion }: RoundContext, use: (siteId: string, m: StoredUpdate, key: string) => Promise<void>): Promise<void> {
  for (const siteId of included) {
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

function missingMessage(siteId: string, round: number): string {
  return `the accepted copy of site ${siteId}'s update for round ${round} is missing`;
}

function fail(err: Error): never {
  throw err;
}

/**
 * The model to publish for the round: the strategy's, or, with a compressed down-link, what sites
 * holding the base model reach by adding the round's delta (`downlinkStep`), with what the delta
 * left out carried to the next round. The delta's rounding draws from the federation's seed and
 * the round, so a redelivered job publishes the same bytes.
 */
async function downlink(
  deps: CoordinatorDeps,
  config: FederationConfig,
  round: number,
  baseVersion: number,
  held: Float32Array,
  target: Float32Array,
): Promise<{ model: Float32Array; delta?: DownlinkDelta }> {
  const spec = CodecSpec.parse(downlinkCodecOf(config));
  if (spec.name === "float32") return { model: target };
  const residual = await loadDownlinkResidual(deps, baseVersion, held.length);
  const rng = seededRandom((taskSeed(config.seed, round) ^ DOWNLINK_SEED) >>> 0);
  const step = downlinkStep(held, target, residual, spec, rng);
  return { model: step.model, delta: { from: baseVersion, codec: formatCodecSpec(spec), bytes: step.bytes, residual: step.residual } };
}

/** Mixed into the round's seed for the down-link's rounding stream. */
const DOWNLINK_SEED = 0xd0117c;

/**
 * A site's weight in the mean: its samples, or 1 each under client-level privacy, whose noise is
 * calibrated to the sum of equally weighted, clipped updates (weighting by the sites' row counts
 * would scale one site's influence, and so the sensitivity, past the clip). In asynchronous
 * rounds, times the policy's weight for the update's staleness against the round's base.
 */
function weightOf(config: FederationConfig, m: StoredUpdate, baseVersion: number): number {
  const weight = config.privacy?.level === "client" ? 1 : m.samples;
  if (!config.async || m.baseVersion === undefined) return weight;
  return weight * stalenessWeight(baseVersion - m.baseVersion, config.async.weighting);
}
