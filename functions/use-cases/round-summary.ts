/**
 * @module
 * A closed round's summary (`core/schemas/round-summary.ts`): written by the aggregator as it
 * closes the round, read by the status instead of the round's manifests. A summary stands for the
 * manifests it lists and nothing else (they are write-once): when the round holds any other (a
 * late update not yet removed) or lacks one it lists, or the summary cannot be read, the round's
 * manifests are read instead. The status is the same either way, only cheaper.
 */
import { aurocFromHistogram, type ClinicalMetrics } from "../../core/metrics/index.ts";
import type { EvalCounts } from "../../core/metrics/eval-counts.ts";
import { ConsiliumError } from "../../core/errors.ts";
import { RoundSummary, type SummarisedUpdate } from "../../core/schemas/round-summary.ts";
import { StoredUpdate } from "../../core/schemas/round.ts";
import { MaskedInputPost } from "../../core/schemas/secure-aggregation.ts";
import type { CoordinatorDeps } from "../deps.ts";
import type { Logger, ObjectStore } from "../ports.ts";
import { keys } from "../keys.ts";
import { readJson, writeJson } from "../repo.ts";
import { pooledMetrics } from "./pooled-metrics.ts";

/** An update as the status counts it: its summary entry, its round, and its base-model counts when read from its manifest. */
export interface CountedUpdate extends SummarisedUpdate {
  readonly round: number;
}

/** Every round's updates, and each round's base model pooled over its fresh updates (absent: none reported it). */
export interface RoundUpdates {
  readonly updates: CountedUpdate[];
  readonly baseModels: Map<number, ClinicalMetrics>;
}

const ROUND_KEY = /^rounds\/(\d+)\//;
const MASKED_INPUT = /\/secure\/masked-input\/[^/]+\.json$/;

/** A key the status counts as an update: a plain update's manifest or a secure round's masked-input post. */
export const isUpdateKey = (k: string): boolean => (k.includes("/updates/") && k.endsWith(".json")) || MASKED_INPUT.test(k);

const siteOf = (key: string) => key.slice(key.lastIndexOf("/") + 1, -".json".length);
const clampRate = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Math.min(1, Math.max(0, x)));

/** An update's entry from its manifest (or masked-input post), with the counts it reported; null when the object is gone. */
async function readUpdate(store: ObjectStore, key: string): Promise<{ entry: SummarisedUpdate; baseMetrics?: EvalCounts } | null> {
  if (MASKED_INPUT.test(key)) {
    const post = await readJson(store, key, MaskedInputPost);
    if (!post) return null;
    const m = post.manifest;
    // A masked input says what a manifest says of traffic, base model and privacy (never its values); it weighs nothing here.
    const entry: SummarisedUpdate = { key, siteId: siteOf(key), samples: 1, byteLength: m.byteLength, bytesDown: post.bytesDown, ...(post.baseMetrics && { base: baseOf(post.baseMetrics) }), ...(post.privacy && { privacy: post.privacy }) };
    return { entry, ...(post.baseMetrics && { baseMetrics: post.baseMetrics }) };
  }
  const u = await readJson(store, key, StoredUpdate);
  if (!u) return null;
  const fresh = u.baseVersion === undefined;
  const entry: SummarisedUpdate = {
    key, siteId: u.siteId, samples: u.samples, byteLength: u.byteLength, bytesDown: u.bytesDown,
    ...(u.baseVersion !== undefined && { baseVersion: u.baseVersion }),
    ...(u.trainLoss !== undefined && { trainLoss: u.trainLoss }),
    ...(u.baseMetrics && fresh && { base: baseOf(u.baseMetrics) }),
    ...(u.privacy && { privacy: u.privacy }),
  };
  return { entry, ...(u.baseMetrics && fresh && { baseMetrics: u.baseMetrics }) };
}

function baseOf(c: EvalCounts): NonNullable<SummarisedUpdate["base"]> {
  return { n: c.n, auroc: clampRate(aurocFromHistogram(c.pos, c.neg)), accuracy: c.n === 0 ? null : clampRate((c.tp + c.tn) / c.n) };
}

/** The round's own model pooled over the updates that measured it (an asynchronous update trained from an older one measured that). */
const pooledBase = (read: readonly { baseMetrics?: EvalCounts }[], logger: Logger, round: number): ClinicalMetrics | null =>
  pooledMetrics(read.flatMap((u) => (u.baseMetrics ? [u.baseMetrics] : [])), logger, `round ${round} base model`);

/** Reads `list` and keeps what is there: a manifest removed between the listing and the read is not counted. */
async function readUpdates(store: ObjectStore, list: readonly string[]) {
  const read = await Promise.all(list.map((k) => readUpdate(store, k)));
  return read.filter((u) => u !== null);
}

/** Writes round `round`'s summary from the manifests in the store now; safe to repeat (it is rewritten from the same manifests). */
export async function summariseRound(deps: CoordinatorDeps, round: number): Promise<RoundSummary> {
  const listed = [...(await deps.store.list(keys.updatesPrefix(round))), ...(await deps.store.list(keys.secureMessages(round, "masked-input")))].filter(isUpdateKey);
  const read = await readUpdates(deps.store, listed);
  const summary: RoundSummary = { round, updates: read.map((u) => u.entry), baseModel: pooledBase(read, deps.logger, round) };
  await writeJson(deps.store, keys.roundSummary(round), summary);
  return summary;
}

/** A summary as the status may use it: null when it is missing or cannot be read (it is derived; the manifests say the same). */
async function readSummary(store: ObjectStore, round: number, logger: Logger): Promise<RoundSummary | null> {
  try {
    const summary = await readJson(store, keys.roundSummary(round), RoundSummary);
    return summary?.round === round ? summary : null;
  } catch (error) {
    if (!(error instanceof ConsiliumError && error.code === "CORRUPT_STATE")) throw error;
    logger.warn("round summary unreadable; its manifests are read instead", { round, error: error.message });
    return null;
  }
}

/**
 * Every update the store holds, grouped by round: from a round's summary where it stands for the
 * manifests listed now, from the manifests otherwise. `roundKeys` is the listing of `rounds/`.
 */
export async function readRoundUpdates(store: ObjectStore, roundKeys: readonly string[], logger: Logger): Promise<RoundUpdates> {
  const byRound = new Map<number, string[]>();
  const summarised = new Set<number>();
  for (const k of roundKeys) {
    if (!k.endsWith(".json")) continue;
    const m = ROUND_KEY.exec(k);
    if (!m) continue;
    const round = Number(m[1]);
    if (k.endsWith("/summary.json")) summarised.add(round);
    else if (isUpdateKey(k)) {
      const list = byRound.get(round);
      if (list) list.push(k);
      else byRound.set(round, [k]);
    }
  }
  const updates: CountedUpdate[] = [];
  const baseModels = new Map<number, ClinicalMetrics>();
  await Promise.all(
    [...byRound].map(async ([round, present]) => {
      const summary = summarised.has(round) ? await readSummary(store, round, logger) : null;
      const listed = new Set(present);
      // The summary stands for exactly the manifests there now, or for nothing: its pooled metrics can take none out or in.
      if (summary !== null && summary.updates.length === listed.size && summary.updates.every((u) => listed.has(u.key))) {
        for (const u of summary.updates) updates.push({ ...u, round });
        if (summary.baseModel) baseModels.set(round, summary.baseModel);
        return;
      }
      // A manifest is stored under the round it counts in (`submit-update.ts`), which it names too.
      const read = await readUpdates(store, present);
      for (const u of read) updates.push({ ...u.entry, round });
      const pooled = pooledBase(read, logger, round);
      if (pooled) baseModels.set(round, pooled);
    }),
  );
  return { updates, baseModels };
}
