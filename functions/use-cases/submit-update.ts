import { z } from "zod";
import { sharedSeed } from "../../core/codec/index.ts";
import { ConsiliumError } from "../../core/errors.ts";
import { updateShape } from "./update-shape.ts";
import { Preprocessing } from "../../core/schemas/preprocessing.ts";
import { RoundRecord, StoredUpdate, type UpdateManifest } from "../../core/schemas/round.ts";
import type { FederationConfig, FederationState } from "../../core/schemas/federation.ts";
import { SiteStats } from "../../core/schemas/site-stats.ts";
import { taskSeed } from "../../core/schemas/task-seed.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { mustReadJson, readJson, writeJson } from "../repo.ts";
import { admitAfterWrite } from "./admit-after-write.ts";
import { completeUpload } from "./complete-upload.ts";
import { checkBaseCounts, loadFederation, maxUpdateAbsOf } from "./load-federation.ts";
import { queueIfReady } from "./queue-if-ready.ts";
import { loadQuality } from "./quality.ts";
import { verifyUpdate } from "./verify-update.ts";

/**
 * Accepts a site's manifest for the update it uploaded, completing a multipart upload from the
 * manifest's part list first: the update must belong to the open round, arrive by its deadline,
 * weigh no more samples than the site has training rows, match the manifest byte for byte, use
 * the federation's codec (drawn from the round's seed, for rand-k) and decode to a vector of the
 * body's length within the federation's bound. The verified bytes are copied where the site's URL
 * cannot reach. When the round has what it waits for (`queueIfReady`) it is queued for aggregation.
 */
export async function submitUpdate(deps: CoordinatorDeps, siteId: string, round: number, manifest: UpdateManifest): Promise<{ queued: boolean }> {
  if (manifest.round !== round) throw new ConsiliumError("ROUND_MISMATCH", `manifest is for round ${manifest.round}, path says ${round}`, 400);
  const { config, state } = await loadFederation(deps);
  if (config.secureAggregation) {
    throw new ConsiliumError("SECURE_AGGREGATION", `federation ${config.id} runs secure aggregation: a site posts its masked input to /v1/rounds/${round}/secure, never a plain update`, 409);
  }
  // Only a round that does not exist is closed: corrupt state or a failed read is the coordinator's error, not the site's.
  const record = state.phase === "training" ? await readJson(deps.store, keys.round(round), RoundRecord) : null;
  // Asynchronous rounds: an update trained in an earlier round counts in the one open now (or next, while this one aggregates).
  const target = config.async && record ? await asyncTarget(deps, config, state, record, siteId) : round;
  if (target === round && (!record || record.status !== "open" || round !== state.round)) {
    // A retry whose first answer was lost, of an update the round took, is answered as the first was:
    // the round includes it, or is aggregating and has yet to fix its set, which will list it.
    const takes = record?.included ? record.included.includes(siteId) : record?.status === "aggregating";
    if (takes && (await isStoredUpdate(deps, round, siteId, manifest))) return { queued: true };
    throw new ConsiliumError("ROUND_CLOSED", `round ${round} is not open for updates`, 409);
  }
  if (target === round && record && deps.clock.now() > record.deadline) {
    throw new ConsiliumError("DEADLINE_PASSED", `round ${round} stopped taking updates at its deadline, ${new Date(record.deadline).toISOString()}`, 409);
  }
  if ((await deps.store.head(keys.decline(round, siteId))) !== null) {
    throw new ConsiliumError("ROUND_DECLINED", `site ${siteId} declined round ${round} (its privacy budget) and cannot send an update to it`, 409);
  }
  if ((await loadQuality(deps))?.excluded.includes(siteId)) {
    throw new ConsiliumError("SITE_EXCLUDED", `site ${siteId} was excluded by the federation's data-quality checks`, 403);
  }
  checkBaseCounts(config, manifest);
  if (manifest.codec !== config.codec) throw new ConsiliumError("CODEC_MISMATCH", `round uses codec ${config.codec}, update says ${manifest.codec}`, 422);
  const stats = await readJson(deps.store, keys.stats(siteId), SiteStats);
  // A site enrolled after the statistics phase never reported rows, so its weight has no cap.
  // Noisy statistics may report 0 rows; the train task then asks the site to weigh 1.
  if (stats && manifest.samples > Math.max(1, stats.rows)) {
    throw new ConsiliumError("SAMPLES_MISMATCH", `update weighs ${manifest.samples} samples, but site ${siteId} reported ${stats.rows} training rows`, 422);
  }
  const prep = await mustReadJson(deps.store, keys.preprocessing, Preprocessing, "NO_PREPROCESSING", "preprocessing");
  const { length, byteLength: size } = updateShape(config, prep);
  if (manifest.byteLength !== size) throw new ConsiliumError("SIZE_MISMATCH", `update must be ${size} bytes, manifest says ${manifest.byteLength}`, 422);
  // Every site draws a seeded codec's coordinates from the round's seed; other codecs ignore it.
  const seed = sharedSeed(taskSeed(config.seed, round));
  const expected = { ...manifest, length, codec: config.codec, seed, maxAbs: maxUpdateAbsOf(config) };
  await completeUpload(deps, keys.updateBin(round, siteId), size, manifest);
  const { bytes } = await verifyUpdate(deps.store, keys.updateBin(round, siteId), expected, `no update uploaded for site ${siteId} in round ${round}`);
  // The presigned PUT stays valid after this answer: the aggregator reads this copy, never the upload key.
  await deps.store.put(keys.acceptedBin(target, siteId, manifest.sha256), bytes, { ifAbsent: true, contentType: "application/octet-stream" });
  // The part list served its purpose once the upload was complete.
  const { uploadId: _uploadId, parts: _parts, ...report } = manifest;
  const moved = target !== round && record ? { round: target, trainedIn: round, baseVersion: record.baseVersion } : {};
  const stored: StoredUpdate = { ...report, ...moved, siteId, receivedAt: deps.clock.now() };
  const duplicate = () => new ConsiliumError("DUPLICATE_UPDATE", `site ${siteId} already sent an update for round ${round}`, 409);
  // One update per site and round it trained in, wherever it counts: a retry must not count it twice.
  if (target !== round && !(await writeJson(deps.store, keys.forwarded(round, siteId), { round: target, sha256: manifest.sha256 }, { ifAbsent: true }))) {
    // The same update again (a retry after a crash between the marker and the manifest) goes on to the write-once manifest.
    const marker = await readJson(deps.store, keys.forwarded(round, siteId), Forwarded);
    if (marker?.round !== target || marker.sha256 !== manifest.sha256) throw duplicate();
  }
  if (!(await writeJson(deps.store, keys.updateManifest(target, siteId), stored, { ifAbsent: true }))) {
    // The same update again is a retry whose first answer was lost (perhaps with the process that
    // wrote it): it goes on as the first would have, so that the round is still queued at quorum.
    if (!(await isStoredUpdate(deps, target, siteId, manifest))) {
      throw new ConsiliumError("DUPLICATE_UPDATE", `site ${siteId} already sent an update for round ${target}`, 409);
    }
  }
  if ((await admitAfterWrite(deps, target, siteId)) === "included") return { queued: true };
  // A round not yet opened is queued when it opens (`advance`); one opened meanwhile is queued here.
  if (target !== round && (await readJson(deps.store, keys.round(target), RoundRecord)) === null) return { queued: false };
  return { queued: await queueIfReady(deps, config, target) };
}

/** Whether the site's stored manifest for `round` is this update (same bytes, same weight): a retry of the first post. */
async function isStoredUpdate(deps: CoordinatorDeps, round: number, siteId: string, manifest: UpdateManifest): Promise<boolean> {
  const first = await readJson(deps.store, keys.updateManifest(round, siteId), StoredUpdate);
  return first?.sha256 === manifest.sha256 && first.samples === manifest.samples;
}

/** The write-once record of where a site's update trained in one round was counted instead. */
const Forwarded = z.object({ round: z.number().int().positive(), sha256: z.string() });

/**
 * The round an asynchronous update counts in: the open round, or, while the current one is
 * aggregating, the next (its manifest waits there for the round to open and close). Refused when
 * training is over or the update is already older than the policy's bound.
 */
async function asyncTarget(deps: CoordinatorDeps, config: FederationConfig, state: FederationState, trained: RoundRecord, siteId: string): Promise<number> {
  const policy = config.async!;
  const current = state.round === trained.round ? trained : await mustReadJson(deps.store, keys.round(state.round), RoundRecord, "NO_ROUND", `round ${state.round}`);
  const target = current.status === "open" ? current.round : current.round + 1;
  if (target > config.rounds) throw new ConsiliumError("ROUND_CLOSED", `training is over: round ${config.rounds} was the last`, 409);
  // Against the model the target round trains from: the one the aggregating round will publish (its number), at most.
  const targetBase = current.status === "open" ? current.baseVersion : current.round;
  const staleness = targetBase - trained.baseVersion;
  if (staleness > policy.maxStaleness) {
    throw new ConsiliumError("STALE_UPDATE", `the update of site ${siteId} was trained from model ${trained.baseVersion}, ${staleness} versions behind the model ${targetBase} it would be applied to; the bound is ${policy.maxStaleness}`, 409);
  }
  // Already counted in the round it trained in (a retried post once that round stopped taking updates).
  if (target !== trained.round && (await deps.store.head(keys.updateManifest(trained.round, siteId))) !== null) {
    throw new ConsiliumError("DUPLICATE_UPDATE", `site ${siteId} already sent an update for round ${trained.round}`, 409);
  }
  return target;
}
