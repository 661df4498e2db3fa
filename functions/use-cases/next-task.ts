import { updateShape } from "./update-shape.ts";
import { modelLayout, outputCount } from "../../core/model/layout.ts";
import type { FederationConfig } from "../../core/schemas/federation.ts";
import { Preprocessing } from "../../core/schemas/preprocessing.ts";
import { RoundRecord } from "../../core/schemas/round.ts";
import { SiteStats } from "../../core/schemas/site-stats.ts";
import { taskSeed } from "../../core/schemas/task-seed.ts";
import type { Task } from "../../core/schemas/task.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { mustReadJson, readJson } from "../repo.ts";
import { completeStats } from "./complete-stats.ts";
import { loadFederation, trainCountsAsked } from "./load-federation.ts";
import { controlRef, modelRef } from "./models.ts";
import { presignUpload } from "./upload-plan.ts";
import { loadQuality } from "./quality.ts";
import { identityOf, secureStep } from "./secure/index.ts";
import { championTask } from "./runs/evaluation-champion.ts";
import { bytesPerValue } from "../../core/secagg/masked-bytes.ts";
import type { SecureTrain } from "../../core/schemas/secure-aggregation.ts";

/** What one site should do now, with presigned URLs scoped to it, its round and its size. */
export async function nextTask(deps: CoordinatorDeps, siteId: string): Promise<Task> {
  let { config, state } = await loadFederation(deps);
  const wait = (reason: string): Task => ({ kind: "wait", retryAfterMs: deps.pollMs ?? 1000, reason });
  // Secure aggregation signs every message with the site's long-term key: it is registered before anything else.
  if (config.secureAggregation && state.phase !== "done" && (await identityOf(deps, siteId)) === null) {
    return { kind: "identity", reason: `federation ${config.id} runs secure aggregation: register this site's Ed25519 identity key (POST /v1/identity)` };
  }
  if (state.phase === "stats") {
    const task = await statsPhaseTask(deps, config, siteId, wait);
    if (task) return task;
    ({ config, state } = await loadFederation(deps));
  }
  if (state.phase === "done") return { kind: "done", modelVersion: state.modelVersion };
  // A site the data-quality policy excluded has nothing more to do in this federation.
  if ((await loadQuality(deps))?.excluded.includes(siteId)) return { kind: "done", modelVersion: state.modelVersion };
  const preprocessing = await mustReadJson(deps.store, keys.preprocessing, Preprocessing, "NO_PREPROCESSING", "preprocessing");
  const layout = modelLayout(config.model, preprocessing.inputs.length, outputCount(preprocessing.label));
  const common = { spec: config.model, layout, preprocessing, training: config.training };
  if (state.phase === "evaluating") {
    if ((await deps.store.head(keys.evaluation(siteId))) !== null) return { kind: "done", modelVersion: state.modelVersion };
    const model = await modelRef(deps, state.modelVersion);
    const champion = await championTask(deps);
    return { kind: "evaluate", model, ...common, federation: config.id, rounds: config.rounds, seed: config.seed, ...(champion && { champion }), ...(trainCountsAsked(config) && { trainCounts: true }) };
  }
  const round = await mustReadJson(deps.store, keys.round(state.round), RoundRecord, "NO_ROUND", `round ${state.round}`);
  if (round.status !== "open") return wait(`round ${round.round} is ${round.status}`);
  let secure: SecureTrain | undefined;
  if (config.secureAggregation) {
    const step = await secureStep(deps, config, round, siteId);
    if (step.kind !== "mask") return step;
    secure = step.secure;
  }
  // An update trained now would be refused with DEADLINE_PASSED: do not spend the site's compute on it.
  if (deps.clock.now() > round.deadline) return wait(`round ${round.round} is past its deadline`);
  if ((await deps.store.head(keys.updateManifest(round.round, siteId))) !== null) return wait(`update for round ${round.round} received`);
  if ((await deps.store.head(keys.decline(round.round, siteId))) !== null) return wait(`round ${round.round} declined (privacy budget)`);
  // A masked input is 2 or 4 bytes per masked value, as the round's ring says.
  const byteLength = secure ? bytesPerValue(secure.config.quantisation.bits) * secure.config.length : updateShape(config, preprocessing).byteLength;
  // Each poll begins a new multipart upload; S3 keeps the parts of one never completed until a lifecycle rule aborts it.
  const upload = await presignUpload(deps, secure ? keys.maskedBin(round.round, siteId) : keys.updateBin(round.round, siteId), byteLength);
  return {
    kind: "train",
    round: round.round,
    rounds: config.rounds,
    deadline: round.deadline,
    model: await modelRef(deps, round.baseVersion),
    control: await controlRef(deps, round.baseVersion),
    ...common,
    codec: config.codec,
    federation: config.id,
    upload,
    seed: taskSeed(config.seed, round.round),
    ...(config.privacy && { privacy: config.privacy }),
    ...(config.statsNoise && { weight: Math.max(1, (await readJson(deps.store, keys.stats(siteId), SiteStats))?.rows ?? 1) }),
    ...(secure && { secure }),
  };
}

/** The task while statistics are collected, or `null` once this poll has finished the phase. */
async function statsPhaseTask(deps: CoordinatorDeps, config: FederationConfig, siteId: string, wait: (reason: string) => Task): Promise<Task | null> {
  // Polls also finish a transition that a crashed stats post left half done.
  const progress = await completeStats(deps, config);
  if (progress.kind === "complete") return null;
  if ((await deps.store.head(keys.stats(siteId))) === null) return { kind: "stats", features: config.features, federation: config.id, ...(config.statsNoise && { noise: config.statsNoise }) };
  if (progress.kind === "blocked") return wait(`${progress.failure.code}: ${progress.failure.message}`);
  return wait("waiting for other sites' statistics");
}
