import { Reputation, RoundScores, siteReputation } from "../../core/scoring/index.ts";
import { SiteRecord } from "../../core/schemas/federation.ts";
import { Rejection, RoundRecord, StoredUpdate } from "../../core/schemas/round.ts";
import { MaskedInputPost } from "../../core/schemas/secure-aggregation.ts";
import type { FederationStatus, RoundStatus } from "../../core/schemas/status.ts";
import { StoredDecline, type SitePrivacy } from "../../core/schemas/privacy.ts";
import { Preprocessing } from "../../core/schemas/preprocessing.ts";
import { StoredEvaluation } from "../../core/schemas/task.ts";
import type { CoordinatorDeps } from "../deps.ts";
import type { ObjectStore } from "../ports.ts";
import { keys } from "../keys.ts";
import { readJson } from "../repo.ts";
import { loadFederation } from "./load-federation.ts";
import { pooledMetrics, poolable } from "./pooled-metrics.ts";
import { loadQuality } from "./quality.ts";
import { readFailureCounts, readRejections } from "./read-refusals.ts";

async function readAll<T>(list: string[], read: (k: string) => Promise<T | null>): Promise<T[]> {
  const values: (T | null)[] = await Promise.all(list.map(read));
  return values.filter((v): v is T => v !== null);
}

const standing = (r: { reputation: number; quarantinedUntil: number }, round: number) => ({
  reputation: r.reputation,
  quarantinedUntil: r.quarantinedUntil,
  quarantined: round <= r.quarantinedUntil,
});

/** The federation as an administrator sees it, rebuilt from the store (metrics pooled from counts). */
export async function readStatus(deps: CoordinatorDeps, options: { readonly rejectionsSkip?: number } = {}): Promise<FederationStatus> {
  const { config, state } = await loadFederation(deps);
  const agreement = (await readJson(deps.store, keys.preprocessing, Preprocessing))?.agreement;
  const { store } = deps;
  const sites = await readAll(await store.list(keys.sites), (k) => readJson(store, k, SiteRecord));
  const roundKeys = await store.list(keys.roundsPrefix);
  const rounds = await readAll(roundKeys.filter((k) => k.endsWith("/round.json")), (k) => readJson(store, k, RoundRecord));
  const plainUpdates = await readAll(roundKeys.filter((k) => k.includes("/updates/") && k.endsWith(".json")), (k) => readJson(store, k, StoredUpdate));
  // Secure rounds: each masked input's post, which says what a plain manifest says of traffic, base model and privacy.
  const updates = [...plainUpdates, ...(await readAll(roundKeys.filter((k) => /\/secure\/masked-input\/[^/]+\.json$/.test(k)), (k) => readMaskedInput(store, k)))];
  const stats = new Set((await store.list(keys.statsPrefix)).map((k) => k.slice(keys.statsPrefix.length, -".json".length)));
  const evaluations = await readAll(await store.list(keys.evaluationsPrefix), (k) => readJson(store, k, StoredEvaluation));
  const { rejections, total: rejectionsTotal } = await readRejections(store, deps.logger, { skip: options.rejectionsSkip });
  const blocked = state.phase === "stats" ? await readJson(store, keys.statsFailure, Rejection) : null;
  const scored = await readAll(roundKeys.filter((k) => k.endsWith("/scores.json")), (k) => readJson(store, k, RoundScores));
  const declines = await readAll(roundKeys.filter((k) => k.includes("/declines/")), (k) => readJson(store, k, StoredDecline));
  // Keys are zero-padded: the last one listed is the latest round's.
  const latestReputation = roundKeys.filter((k) => k.endsWith("/reputation.json")).sort().at(-1);
  const reputation = latestReputation === undefined ? null : await readJson(store, latestReputation, Reputation);
  // Grouped once: a consortium of hundreds of sites and rounds holds tens of thousands of updates.
  const byRound = new Map<number, StoredUpdate[]>();
  const bySite = new Map<string, number>();
  for (const u of updates) {
    const list = byRound.get(u.round);
    if (list) list.push(u);
    else byRound.set(u.round, [u]);
    bySite.set(u.siteId, (bySite.get(u.siteId) ?? 0) + 1);
  }
  const roundLog: RoundStatus[] = rounds.map((r) => {
    const mine = byRound.get(r.round) ?? [];
    const roundScores = scored.find((s) => s.round === r.round);
    return {
      ...r,
      updates: mine.length,
      ...(config.async && { stale: mine.filter((u) => u.baseVersion !== undefined).length }),
      bytesUp: mine.reduce((n, u) => n + u.byteLength, 0),
      bytesDown: mine.reduce((n, u) => n + u.bytesDown, 0),
      // An asynchronous update trained in an earlier round measured that round's model, not this one's.
      baseModel: pooledMetrics(mine.flatMap((u) => (u.baseMetrics && u.baseVersion === undefined ? [u.baseMetrics] : [])), deps.logger, `round ${r.round} base model`),
      ...(roundScores && {
        scores: roundScores.scores.map((score) => {
          const d = roundScores.decisions.find((x) => x.siteId === score.siteId);
          return { ...score, action: d?.action ?? "keep", factor: d?.factor ?? 1, reason: d?.reason ?? "" };
        }),
      }),
    };
  });
  const pooledEvaluations = evaluations.filter((e) => poolable(e.global) && poolable(e.personalized) && poolable(e.local));
  const [global, personalized, local] = (["global", "personalized", "local"] as const).map((m) => pooledMetrics(pooledEvaluations.map((e) => e[m]), deps.logger, `final ${m}`));
  const final = global && personalized && local ? { global, personalized, local, sites: pooledEvaluations.length } : null;
  return {
    federation: config.id,
    strategy: config.strategy,
    codec: config.codec,
    rounds: config.rounds,
    ...(config.async && { async: config.async }),
    ...(config.secureAggregation && { secureAggregation: config.secureAggregation }),
    state,
    sites: sites.map((s) => ({
      id: s.id,
      name: s.name,
      statsReported: stats.has(s.id),
      updates: bySite.get(s.id) ?? 0,
      evaluated: evaluations.some((e) => e.siteId === s.id),
      ...(reputation && standing(siteReputation(reputation, s.id), state.round)),
    })),
    roundLog,
    rejections,
    rejectionsTotal,
    failures: await readFailureCounts(deps),
    blocked,
    evaluations,
    final,
    quality: await loadQuality(deps),
    ...(agreement && { features: agreement }),
    ...(config.privacy && { privacy: sitePrivacy(sites.map((s) => s.id), updates, declines) }),
  };
}

/** A secure round's masked-input post as the status counts updates: its bytes, base-model counts and ledger (never its values). */
async function readMaskedInput(store: ObjectStore, key: string): Promise<StoredUpdate | null> {
  const post = await readJson(store, key, MaskedInputPost);
  if (!post) return null;
  const siteId = key.slice(key.lastIndexOf("/") + 1, -".json".length);
  const { manifest: m } = post;
  return {
    round: m.round, siteId, samples: 1, codec: "secure", byteLength: m.byteLength, sha256: m.sha256, bytesDown: post.bytesDown, receivedAt: post.receivedAt ?? 0,
    ...(post.baseMetrics && { baseMetrics: post.baseMetrics }),
    ...(post.privacy && { privacy: post.privacy }),
  };
}

/**
 * Each site's ledger as it last reported it (its latest update or refusal, whichever round is
 * later), with the rounds it refused; sites that have reported nothing yet are left out.
 */
function sitePrivacy(siteIds: readonly string[], updates: readonly StoredUpdate[], declines: readonly StoredDecline[]): SitePrivacy[] {
  return siteIds.flatMap((siteId) => {
    const reports = [
      ...updates.filter((u) => u.siteId === siteId && u.privacy).map((u) => ({ round: u.round, privacy: u.privacy! })),
      ...declines.filter((d) => d.siteId === siteId).map((d) => ({ round: d.round, privacy: d.privacy })),
    ].sort((a, b) => a.round - b.round);
    const latest = reports.at(-1);
    if (!latest) return [];
    const refusedRounds = declines.filter((d) => d.siteId === siteId).map((d) => d.round).sort((a, b) => a - b);
    return [{ siteId, ...latest.privacy, refusedRounds }];
  });
}
