/**
 * @module
 * A region's coordinator as its relay drives it (regional tiers, `FederationConfig.upstream`):
 * its sites' statistics pooled into one, rounds opened on the global coordinator's preprocessing
 * and models, each round's regional aggregate read back, the global final model evaluated and the
 * sites' evaluations merged. Every step is idempotent (write-once objects, or state that is
 * rewritten with the same value), so a relay may repeat any of them after a crash.
 */
import { ConsiliumError } from "../../core/errors.ts";
import { decodeUpdate, sha256Hex } from "../../core/codec/index.ts";
import { mergeCounts } from "../../core/metrics/index.ts";
import { poolSiteStats } from "../../core/preprocess/merge-stats.ts";
import { Preprocessing } from "../../core/schemas/preprocessing.ts";
import { EvalCounts } from "../../core/metrics/eval-counts.ts";
import { RegionalAggregate, RoundRecord, StoredUpdate } from "../../core/schemas/round.ts";
import { MaskedInputPost } from "../../core/schemas/secure-aggregation.ts";
import { SiteStats } from "../../core/schemas/site-stats.ts";
import { isBinaryEvaluation, StoredEvaluation, type SiteEvaluation } from "../../core/schemas/task.ts";
import { mergeMulticlass, type MulticlassCounts } from "../../core/metrics/multiclass.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { mustReadJson, readJson, writeJson } from "../repo.ts";
import { loadFederation } from "./load-federation.ts";
import { saveModel } from "./models.ts";
import { advance } from "./open-round.ts";
import { loadQuality } from "./quality.ts";
import { readReported } from "./complete-stats.ts";
import { MIN_REGIONAL_SITES } from "./aggregate/aggregate-round.ts";
import { updateShape } from "./update-shape.ts";
import type { FederationState } from "../../core/schemas/federation.ts";

/**
 * The region's sites' statistics as one site's, once every expected site has reported and the
 * region's data-quality checks have run (sites they excluded are left out); null before.
 * Under noisy statistics each site counts at least one row, as its updates weigh at least one.
 */
export async function regionStats(deps: CoordinatorDeps): Promise<SiteStats | null> {
  const { config } = await loadFederation(deps);
  const reported = await deps.store.list(keys.statsPrefix);
  if (reported.length < config.expectedSites) return null;
  const quality = await loadQuality(deps);
  if (!quality) return null;
  const stats = (await readReported(deps, reported)).filter((s) => !quality.excluded.includes(s.siteId)).map((s) => s.stats);
  if (stats.length < MIN_REGIONAL_SITES) throw new ConsiliumError("TOO_FEW_SITES", `only ${stats.length} of the region's sites are left after its data-quality checks; a region sends up no single site's statistics`, 409);
  const pooled = poolSiteStats(config.statsNoise ? stats.map((s) => ({ ...s, rows: Math.max(1, s.rows) })) : stats);
  return pooled;
}

/**
 * What the relay checks before it acts on a global task: the region must run the federation the
 * global coordinator runs (rounds, codec, model and its size, training, privacy policy, feature
 * spec and noise on statistics), or its aggregates would not fit or not mean the same.
 */
export async function checkGlobalTask(
  deps: CoordinatorDeps,
  task: { rounds?: number; codec?: string; bodySize?: number; spec?: unknown; training?: unknown; privacy?: unknown; features?: unknown; noise?: unknown },
): Promise<void> {
  const { config } = await loadFederation(deps);
  const differs = (what: string, global: unknown, region: unknown) => {
    const show = (v: unknown) => (typeof v === "object" ? JSON.stringify(v) : String(v));
    throw new ConsiliumError("REGION_MISMATCH", `the global federation's ${what} is ${show(global)}, the region's ${show(region)}: the region's configuration must follow the global one`, 500);
  };
  if (task.rounds !== undefined && task.rounds !== config.rounds) differs("rounds", task.rounds, config.rounds);
  if (task.codec !== undefined && task.codec !== config.codec) differs("codec", task.codec, config.codec);
  // Parsed by the same schemas on both sides, so their JSON compares field by field.
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  if ("spec" in task && !same(task.spec, config.model)) differs("model", task.spec, config.model);
  if ("training" in task && !same(task.training, config.training)) differs("training", task.training, config.training);
  if ("privacy" in task && !same(task.privacy, config.privacy)) differs("privacy policy", task.privacy ?? "none", config.privacy ?? "none");
  if ("features" in task && !same(task.features, config.features)) differs("feature spec", task.features, config.features);
  if ("noise" in task && !same(task.noise, config.statsNoise)) differs("noise on statistics", task.noise ?? "none", config.statsNoise ?? "none");
  const prep = await readJson(deps.store, keys.preprocessing, Preprocessing);
  if (task.bodySize !== undefined && prep) {
    const { layout } = updateShape(config, prep);
    if (layout.bodySize !== task.bodySize) differs("model size", task.bodySize, layout.bodySize);
  }
}

/** Ends the region with the global federation (done, or the region excluded from it). */
export async function finishRegion(deps: CoordinatorDeps): Promise<void> {
  const { state } = await loadFederation(deps);
  if (state.phase !== "done") await writeJson(deps.store, keys.state, { ...state, phase: "done", updatedAt: deps.clock.now() } satisfies FederationState);
}

/** Stores the global preprocessing (once) and global model `version` (once) in the region. */
async function install(deps: CoordinatorDeps, version: number, model: Float32Array, preprocessing: Preprocessing): Promise<void> {
  const { config } = await loadFederation(deps);
  await writeJson(deps.store, keys.preprocessing, preprocessing, { ifAbsent: true });
  if ((await deps.store.head(keys.modelManifest(version))) === null) {
    await saveModel(deps, model, { version, round: version, strategy: config.strategy, sites: [], samples: 0 });
  }
}

/**
 * Opens the region's round `round` on global model `version`: what the global coordinator asked
 * the region to train. A round already opened is left as it is.
 */
export async function openRegionalRound(deps: CoordinatorDeps, o: { round: number; version: number; model: Float32Array; preprocessing: Preprocessing; deadline?: number }): Promise<void> {
  const { config, state } = await loadFederation(deps);
  if (!config.upstream) throw new ConsiliumError("INVALID_CONFIG", "this coordinator serves no region", 400);
  if (o.round > config.rounds) throw new ConsiliumError("REGION_MISMATCH", `the global round ${o.round} is past the region's ${config.rounds} rounds`, 500);
  await install(deps, o.version, o.model, o.preprocessing);
  // By the state, not the round record: a crash between the two writes of `advance` is finished here, and a stale task never rewinds the region.
  const behind = state.phase === "stats" || (state.phase === "training" && state.round < o.round);
  if (behind) await advance(deps, config, o.round, o.version, o.deadline);
}

/** Whether the region's round `round` is open or past (its base model installed): the relay need not download the global model again. */
export async function regionalRoundOpened(deps: CoordinatorDeps, round: number): Promise<boolean> {
  const { state } = await loadFederation(deps);
  return state.phase !== "stats" && state.round >= round && (await deps.store.head(keys.round(round))) !== null;
}

/**
 * Round `round`'s regional aggregate with its bytes, once the round has closed; `skipped` when it
 * aggregated nothing (no site sent a valid update by its deadline); null while it is still open.
 * The sites' base-model counts are merged into one, for the global round's pooled metrics.
 */
export async function regionalAggregate(
  deps: CoordinatorDeps,
  round: number,
): Promise<{ manifest: RegionalAggregate; bytes: Uint8Array; values: Float32Array; baseMetrics?: EvalCounts; baseClasses?: MulticlassCounts } | "skipped" | null> {
  const record = await readJson(deps.store, keys.round(round), RoundRecord);
  if (record?.status === "skipped") return "skipped";
  if (record?.status !== "closed") return null;
  const manifest = await mustReadJson(deps.store, keys.regionalAggregateManifest(round), RegionalAggregate, "CORRUPT_STATE", `regional aggregate of round ${round}`);
  const bytes = await deps.store.get(keys.regionalAggregate(round));
  if (!bytes || sha256Hex(bytes) !== manifest.sha256) throw new ConsiliumError("CORRUPT_STATE", `regional aggregate of round ${round} does not match its manifest`, 500);
  // A secure round's sites report their base-model counts beside their masked inputs.
  const countsOf = async (site: string) =>
    (await readJson(deps.store, keys.updateManifest(round, site), StoredUpdate)) ??
    (await readJson(deps.store, keys.secureMessage(round, "masked-input", site), MaskedInputPost));
  const posts = await Promise.all(manifest.sites.map(countsOf));
  const binary = posts.map((p) => p?.baseMetrics);
  const classes = posts.map((p) => p?.baseClasses);
  const baseMetrics = binary.every((c): c is EvalCounts => c !== undefined) ? mergeCounts(binary) : undefined;
  const baseClasses = classes.every((c): c is MulticlassCounts => c !== undefined) ? mergeMulticlass(classes) : undefined;
  return { manifest, bytes, values: decodeUpdate(bytes, { codec: "float32" }).values, ...(baseMetrics && { baseMetrics }), ...(baseClasses && { baseClasses }) };
}

/** Moves the region to evaluating global model `version` (its final model). */
export async function openRegionalEvaluation(deps: CoordinatorDeps, o: { version: number; model: Float32Array; preprocessing: Preprocessing }): Promise<void> {
  const { config, state } = await loadFederation(deps);
  await install(deps, o.version, o.model, o.preprocessing);
  if (state.phase === "stats" || state.phase === "training") await advance(deps, config, config.rounds + 1, o.version);
}

/** The region's sites' evaluations as one site's, once every site has reported (the region is done); null before. */
export async function regionEvaluation(deps: CoordinatorDeps): Promise<SiteEvaluation | null> {
  const { state } = await loadFederation(deps);
  if (state.phase !== "done") return null;
  const stored = await Promise.all((await deps.store.list(keys.evaluationsPrefix)).map((k) => mustReadJson(deps.store, k, StoredEvaluation, "CORRUPT_STATE", k)));
  if (stored.length < MIN_REGIONAL_SITES) throw new ConsiliumError("TOO_FEW_SITES", `only ${stored.length} of the region's sites evaluated; a region sends up no single site's counts`, 409);
  const common = { modelVersion: state.modelVersion, trainRows: stored.reduce((n, e) => n + e.trainRows, 0), testRows: stored.reduce((n, e) => n + e.testRows, 0) };
  const classes = stored.map((e) => e.classes);
  if (classes.every((c) => c !== undefined)) {
    const merge = (m: "global" | "personalized" | "local") => mergeMulticlass(classes.map((c) => c[m]));
    return { ...common, classes: { global: merge("global"), personalized: merge("personalized"), local: merge("local") } };
  }
  const binary = stored.filter(isBinaryEvaluation);
  if (binary.length !== stored.length) throw new ConsiliumError("CORRUPT_STATE", "the region's sites evaluated models of different kinds (binary and K-class)", 500);
  return {
    ...common,
    global: mergeCounts(binary.map((e) => e.global)),
    personalized: mergeCounts(binary.map((e) => e.personalized)),
    local: mergeCounts(binary.map((e) => e.local)),
    // The training-row counts the global threshold is chosen on, when every site of the region sent them.
    ...(binary.every((e) => e.globalTrain) && { globalTrain: mergeCounts(binary.map((e) => e.globalTrain!)) }),
  };
}
