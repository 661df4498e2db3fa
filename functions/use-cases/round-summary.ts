/**
 * @module
 * A closed round's summary (`core/schemas/round-summary.ts`) and the reading of every round for
 * the status. The summary is written once, after the round's record says closed or skipped, from
 * the round's own keys; every path that closes a round writes it, and the tick (a few rounds a
 * tick, oldest first) or a job delivered again writes it when a crash left it out, as it does for
 * the rounds of a store from before summaries. The status lists `summaries/` (one page per thousand
 * rounds) and reads each closed round from its summary; a round without a readable one (the open
 * round, a store from before summaries, a crash before it was written) is read from its own keys
 * under `rounds/{r}/`. Either way the status is the same: a closed round's manifests, scores and
 * reputations are write-once, and a plain manifest that arrives after the round's set was fixed
 * is not in the set, so it is not counted (it is being removed: `admit-after-write.ts`). One
 * race is left: a site's decline checked against an open round and written after its close is in
 * the round's keys but not in its summary.
 */
import { aurocFromHistogram, ClinicalMetrics } from "../../core/metrics/index.ts";
import type { EvalCounts } from "../../core/metrics/eval-counts.ts";
import { mergeMulticlass, type MulticlassCounts, multiclassMetrics } from "../../core/metrics/multiclass.ts";
import { ConsiliumError } from "../../core/errors.ts";
import { Reputation, RoundScores } from "../../core/scoring/index.ts";
import { StoredDecline } from "../../core/schemas/privacy.ts";
import { RoundSummary, type SummarisedUpdate } from "../../core/schemas/round-summary.ts";
import { RoundRecord, StoredUpdate } from "../../core/schemas/round.ts";
import { MaskedInputPost } from "../../core/schemas/secure-aggregation.ts";
import type { CoordinatorDeps } from "../deps.ts";
import type { Logger, ObjectStore } from "../ports.ts";
import { keys } from "../keys.ts";
import { readAll, readJson, writeJson } from "../repo.ts";
import { pooledMetrics } from "./pooled-metrics.ts";

/** An update as the status counts it: its summary entry and the round it counts in. */
export interface CountedUpdate extends SummarisedUpdate {
  readonly round: number;
}

/** What the status reads of the rounds. */
export interface Rounds {
  /** Every round's record, in round order. */
  readonly records: RoundRecord[];
  readonly updates: CountedUpdate[];
  /** Each round's own model pooled over its fresh updates (absent: none reported it). */
  readonly baseModels: Map<number, ClinicalMetrics>;
  readonly scored: RoundScores[];
  readonly declines: StoredDecline[];
  /** The reputations after the latest round that scored. */
  readonly reputation: Reputation | null;
}

/** One round's parts; a round read from its keys may have no record yet. */
type RoundParts = Omit<RoundSummary, "record"> & { readonly record: RoundRecord | null };

const MASKED_INPUT = /\/secure\/masked-input\/[^/]+\.json$/;

/** A key the status counts as an update: a plain update's manifest or a secure round's masked-input post. */
const isUpdateKey = (k: string): boolean => (k.includes("/updates/") && k.endsWith(".json")) || MASKED_INPUT.test(k);

const siteOf = (key: string) => key.slice(key.lastIndexOf("/") + 1, -".json".length);
const clampRate = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Math.min(1, Math.max(0, x)));

function baseOf(c: EvalCounts): NonNullable<SummarisedUpdate["base"]> {
  return { n: c.n, auroc: clampRate(aurocFromHistogram(c.pos, c.neg)), accuracy: c.n === 0 ? null : clampRate((c.tp + c.tn) / c.n) };
}

/** A K-class model's base figures at one site: its accuracy, and its macro AUROC where a binary model has its AUROC. */
function baseOfClasses(c: MulticlassCounts): NonNullable<SummarisedUpdate["base"]> {
  const m = multiclassMetrics(c);
  return { n: c.n, auroc: clampRate(m.macroAuroc), accuracy: clampRate(m.accuracy) };
}

/**
 * A K-class round's model pooled over its fresh updates, in the shape a binary round's takes:
 * accuracy, and the macro AUROC as its AUROC; the per-class rates (null here) are the final
 * evaluation's. Counts of another number of classes than the first are passed over, never merged.
 */
function pooledClassesAsClinical(classes: readonly MulticlassCounts[], logger: Logger, round: number): ClinicalMetrics | null {
  const k = classes[0]!.k;
  const same = classes.filter((c) => c.k === k && c.pos[0]?.length === classes[0]!.pos[0]?.length);
  const m = multiclassMetrics(mergeMulticlass(same));
  const parsed = ClinicalMetrics.safeParse({ n: m.n, prevalence: null, accuracy: m.accuracy, sensitivity: null, specificity: null, auroc: m.macroAuroc });
  if (parsed.success) return parsed.data;
  logger.error("pooled metrics outside their range passed over", { what: `round ${round} base model (classes)` });
  return null;
}

/** The base figures a manifest or masked-input post reports, of either kind. */
function baseFrom(post: { baseMetrics?: EvalCounts; baseClasses?: MulticlassCounts }): SummarisedUpdate["base"] {
  return post.baseMetrics ? baseOf(post.baseMetrics) : post.baseClasses ? baseOfClasses(post.baseClasses) : undefined;
}

/** An update's entry from its manifest (or masked-input post), with the counts it reported of the round's own model; null when the object is gone. */
async function readUpdate(store: ObjectStore, key: string): Promise<{ entry: SummarisedUpdate; baseMetrics?: EvalCounts; baseClasses?: MulticlassCounts } | null> {
  if (MASKED_INPUT.test(key)) {
    const post = await readJson(store, key, MaskedInputPost);
    if (!post) return null;
    // A masked input says what a manifest says of traffic, base model and privacy (never its values); it weighs nothing here.
    const entry: SummarisedUpdate = { siteId: siteOf(key), samples: 1, byteLength: post.manifest.byteLength, bytesDown: post.bytesDown, ...(baseFrom(post) && { base: baseFrom(post) }), ...(post.privacy && { privacy: post.privacy }) };
    return { entry, ...(post.baseMetrics && { baseMetrics: post.baseMetrics }), ...(post.baseClasses && { baseClasses: post.baseClasses }) };
  }
  const u = await readJson(store, key, StoredUpdate);
  if (!u) return null;
  // An asynchronous update trained in an earlier round measured that round's model, not this one's.
  const fresh = u.baseVersion === undefined;
  const entry: SummarisedUpdate = {
    siteId: u.siteId, samples: u.samples, byteLength: u.byteLength, bytesDown: u.bytesDown,
    ...(u.baseVersion !== undefined && { baseVersion: u.baseVersion }),
    ...(u.trainLoss !== undefined && { trainLoss: u.trainLoss }),
    ...(fresh && baseFrom(u) && { base: baseFrom(u) }),
    ...(u.privacy && { privacy: u.privacy }),
  };
  return { entry, ...(u.baseMetrics && fresh && { baseMetrics: u.baseMetrics }), ...(u.baseClasses && fresh && { baseClasses: u.baseClasses }) };
}

/** Round `round` from its own keys: `listed`, or one listing of `rounds/{r}/`. */
async function readRoundKeys(store: ObjectStore, round: number, logger: Logger, listed?: readonly string[]): Promise<RoundParts> {
  listed ??= await store.list(keys.roundPrefix(round));
  const has = new Set(listed);
  const record = has.has(keys.round(round)) ? await readJson(store, keys.round(round), RoundRecord) : null;
  // Once the round's set is fixed, a plain manifest outside it is late: it is being removed (`admit-after-write.ts`) and counts nowhere.
  const fixed = record && record.status !== "open" && record.included ? new Set(record.included) : null;
  const counted = listed.filter((k) => isUpdateKey(k) && !(fixed && k.startsWith(keys.updatesPrefix(round)) && !fixed.has(siteOf(k))));
  // A manifest is stored under the round it counts in (`submit-update.ts`), which it names too.
  const read = await readAll(counted, (k) => readUpdate(store, k));
  const counts = read.flatMap((u) => (u.baseMetrics ? [u.baseMetrics] : []));
  const classes = read.flatMap((u) => (u.baseClasses ? [u.baseClasses] : []));
  return {
    round,
    record,
    updates: read.map((u) => u.entry),
    baseModel: counts.length > 0 || classes.length === 0 ? pooledMetrics(counts, logger, `round ${round} base model`) : pooledClassesAsClinical(classes, logger, round),
    scores: has.has(keys.roundScores(round)) ? await readJson(store, keys.roundScores(round), RoundScores) : null,
    reputation: has.has(keys.reputation(round)) ? await readJson(store, keys.reputation(round), Reputation) : null,
    declines: await readAll(listed.filter((k) => k.startsWith(keys.declinesPrefix(round))), (k) => readJson(store, k, StoredDecline)),
  };
}

/**
 * Writes round `round`'s summary once its record says closed or skipped (nothing before: the
 * round may still change); the first written stands. Answers whether it wrote one. Derived, so
 * never in the way of a close: a failure is logged, and the round is read from its keys until the
 * tick or a job delivered again writes it.
 */
export async function summariseRound(deps: CoordinatorDeps, round: number): Promise<boolean> {
  try {
    if ((await deps.store.head(keys.roundSummary(round))) !== null) return false;
    // The record first: an open round's manifests are not read for nothing.
    const closing = await readJson(deps.store, keys.round(round), RoundRecord);
    if (closing === null || (closing.status !== "closed" && closing.status !== "skipped")) return false;
    const parts = await readRoundKeys(deps.store, round, deps.logger);
    const { record } = parts;
    if (record === null || (record.status !== "closed" && record.status !== "skipped")) return false;
    const summary: RoundSummary = { ...parts, record };
    return await writeJson(deps.store, keys.roundSummary(round), summary, { ifAbsent: true });
  } catch (error) {
    deps.logger.error("round summary not written; the status reads the round from its keys", { round, error: error instanceof Error ? error.message : String(error) });
    return false;
  }
}

/** Most summaries one tick writes for rounds that lack one. */
export const BACKFILL_PER_TICK = 8;

/**
 * Writes the missing summaries of rounds 1 to `last`, oldest first, at most `max` (the tick's: a
 * summary a close failed to write, or every round of a store from before summaries, a few per
 * tick). Rounds not closed yet are passed over. Answers how many it wrote.
 */
export async function backfillSummaries(deps: CoordinatorDeps, last: number, max = BACKFILL_PER_TICK): Promise<number> {
  if (last < 1) return 0;
  let listed: string[];
  try {
    listed = await deps.store.list(keys.summariesPrefix);
  } catch (error) {
    deps.logger.error("round summaries not listed; none written this tick", { error: error instanceof Error ? error.message : String(error) });
    return 0;
  }
  const have = new Set(listed);
  let written = 0;
  for (let r = 1; r <= last && written < max; r++) {
    if (have.has(keys.roundSummary(r))) continue;
    if (await summariseRound(deps, r)) written++;
    // A round not closed yet, or one that failed to write: the next tick tries again from here.
    else if ((await deps.store.head(keys.roundSummary(r))) === null) break;
  }
  return written;
}

/** Rounds without a summary past which one listing of `rounds/` is cheaper than one per round (a store from before summaries). */
const ROUND_LISTINGS = 32;

/** A summary as the status may use it: null when it cannot be read (it is derived; the round's keys say the same). */
async function readSummary(store: ObjectStore, key: string, logger: Logger): Promise<RoundSummary | null> {
  try {
    const summary = await readJson(store, key, RoundSummary);
    if (summary && key !== keys.roundSummary(summary.round)) throw new ConsiliumError("CORRUPT_STATE", `object ${key} summarises round ${summary.round}`, 500);
    return summary;
  } catch (error) {
    if (!(error instanceof ConsiliumError && error.code === "CORRUPT_STATE")) throw error;
    logger.warn("round summary unreadable; the round's own keys are read instead", { key, error: error.message });
    return null;
  }
}

/**
 * Every round up to `last` (the run's current round), each from its summary or from its own keys,
 * and `also` (an asynchronous run's next round, where updates may wait) from its keys.
 */
export async function readRounds(store: ObjectStore, last: number, logger: Logger, also: readonly number[] = []): Promise<Rounds> {
  const summaries = new Map<number, RoundSummary>();
  for (const s of await readAll(await store.list(keys.summariesPrefix), (k) => readSummary(store, k, logger))) summaries.set(s.round, s);
  const wanted = [...new Set([...Array.from({ length: last }, (_, i) => i + 1), ...also, ...summaries.keys()])].sort((a, b) => a - b);
  const missing = wanted.filter((r) => !summaries.has(r));
  // Many rounds without one: a single listing of every round's keys, grouped, instead of a listing each.
  let grouped: Map<number, string[]> | null = null;
  if (missing.length > ROUND_LISTINGS) {
    grouped = new Map(missing.map((r) => [r, []]));
    for (const k of await store.list(keys.roundsPrefix)) grouped.get(Number(/^rounds\/(\d+)\//.exec(k)?.[1]))?.push(k);
  }
  const parts = await Promise.all(wanted.map((r) => summaries.get(r) ?? readRoundKeys(store, r, logger, grouped?.get(r))));
  const out = { records: [] as RoundRecord[], updates: [] as CountedUpdate[], baseModels: new Map<number, ClinicalMetrics>(), scored: [] as RoundScores[], declines: [] as StoredDecline[] };
  let reputation: Reputation | null = null;
  for (const p of parts) {
    if (p.record) out.records.push(p.record);
    for (const u of p.updates) out.updates.push({ ...u, round: p.round });
    if (p.baseModel) out.baseModels.set(p.round, p.baseModel);
    if (p.scores) out.scored.push(p.scores);
    out.declines.push(...p.declines);
    // In round order: the last one read is the latest round's.
    if (p.reputation) reputation = p.reputation;
  }
  return { ...out, reputation };
}
