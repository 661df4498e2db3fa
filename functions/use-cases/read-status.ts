import { DEFAULT_OPERATING_POINT, operatingPoint } from "../../core/metrics/operating-point.ts";
import { siteReputation } from "../../core/scoring/index.ts";
import { SiteRecord } from "../../core/schemas/federation.ts";
import { Rejection } from "../../core/schemas/round.ts";
import type { FederationStatus, RoundSiteStatus, RoundStatus } from "../../core/schemas/status.ts";
import type { SitePrivacy, StoredDecline } from "../../core/schemas/privacy.ts";
import { Preprocessing } from "../../core/schemas/preprocessing.ts";
import { isBinaryEvaluation, StoredEvaluation } from "../../core/schemas/task.ts";
import { mergeMulticlass, MULTICLASS_BINS, MulticlassSummary, multiclassSummary } from "../../core/metrics/multiclass.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { readAll, readJson } from "../repo.ts";
import { loadFederation } from "./load-federation.ts";
import { pooledMetrics, poolable } from "./pooled-metrics.ts";
import { loadQuality } from "./quality.ts";
import { readFailureCounts, readRejections } from "./read-refusals.ts";
import { type CountedUpdate, readRounds } from "./round-summary.ts";


const standing = (r: { reputation: number; quarantinedUntil: number }, round: number) => ({
  reputation: r.reputation,
  quarantinedUntil: r.quarantinedUntil,
  quarantined: round <= r.quarantinedUntil,
});

export interface StatusOptions {
  /** Rejections to pass over, newest first (the second page is 200). */
  readonly rejectionsSkip?: number;
  /** Each round's updates site by site (samples, training loss, the base model's AUROC and accuracy there): the per-site learning curves. */
  readonly perSite?: boolean;
  /** With `perSite`: beyond this many updates in all, which one answer could not carry, the lists are left out and `perSiteOmitted` says why. */
  readonly perSiteLimit?: number;
}

/** The training loss of a round's updates, weighted by their samples; null when none reported one. */
function meanLoss(updates: readonly CountedUpdate[]): number | null {
  let weight = 0;
  let sum = 0;
  for (const u of updates) {
    if (u.trainLoss === undefined) continue;
    weight += u.samples;
    sum += u.samples * u.trainLoss;
  }
  return weight === 0 ? null : sum / weight;
}

function perSite(updates: readonly CountedUpdate[]): RoundSiteStatus[] {
  return updates
    .map((u) => ({
      siteId: u.siteId,
      samples: u.samples,
      ...(u.baseVersion !== undefined && { baseVersion: u.baseVersion }),
      ...(u.trainLoss !== undefined && { trainLoss: u.trainLoss }),
      ...(u.base && { auroc: u.base.auroc, accuracy: u.base.accuracy }),
    }))
    .sort((a, b) => (a.siteId < b.siteId ? -1 : a.siteId > b.siteId ? 1 : 0));
}

/** The federation as an administrator sees it, rebuilt from the store (metrics pooled from counts). */
export async function readStatus(deps: CoordinatorDeps, options: StatusOptions = {}): Promise<FederationStatus> {
  const { config, state } = await loadFederation(deps);
  const { store } = deps;
  // Read side by side: against S3 each listing is a round trip, and none depends on another.
  const [preprocessing, sites, rounds, statsKeys, evaluations, refusals, blocked, failures, quality] = await Promise.all([
    readJson(store, keys.preprocessing, Preprocessing),
    store.list(keys.sites).then((list) => readAll(list, (k) => readJson(store, k, SiteRecord))),
    // Closed rounds from their summaries, the rest from their own keys; an asynchronous run's updates may wait under the next round.
    readRounds(store, state.round, deps.logger, config.async ? [state.round + 1] : []),
    store.list(keys.statsPrefix),
    store.list(keys.evaluationsPrefix).then((list) => readAll(list, (k) => readJson(store, k, StoredEvaluation))),
    readRejections(store, deps.logger, { skip: options.rejectionsSkip }),
    state.phase === "stats" ? readJson(store, keys.statsFailure, Rejection) : null,
    readFailureCounts(deps),
    loadQuality(deps),
  ]);
  const agreement = preprocessing?.agreement;
  const { updates, baseModels, scored, declines, reputation } = rounds;
  const perSiteOmitted = options.perSite && options.perSiteLimit !== undefined && updates.length > options.perSiteLimit
    ? `the rounds hold ${updates.length} updates, more than the ${options.perSiteLimit} one status lists site by site (the dashboard's sites page draws the per-site curves)`
    : undefined;
  const listSites = options.perSite === true && perSiteOmitted === undefined;
  const { rejections, total: rejectionsTotal } = refusals;
  const stats = new Set(statsKeys.map((k) => k.slice(keys.statsPrefix.length, -".json".length)));
  // Grouped once: a consortium of hundreds of sites and rounds holds tens of thousands of updates.
  const byRound = new Map<number, CountedUpdate[]>();
  const bySite = new Map<string, number>();
  for (const u of updates) {
    const list = byRound.get(u.round);
    if (list) list.push(u);
    else byRound.set(u.round, [u]);
    bySite.set(u.siteId, (bySite.get(u.siteId) ?? 0) + 1);
  }
  const roundLog: RoundStatus[] = rounds.records.map((r) => {
    const mine = byRound.get(r.round) ?? [];
    const roundScores = scored.find((s) => s.round === r.round);
    return {
      ...r,
      updates: mine.length,
      ...(config.async && { stale: mine.filter((u) => u.baseVersion !== undefined).length }),
      bytesUp: mine.reduce((n, u) => n + u.byteLength, 0),
      bytesDown: mine.reduce((n, u) => n + u.bytesDown, 0),
      // An asynchronous update trained in an earlier round measured that round's model, not this one's: fresh updates only.
      baseModel: baseModels.get(r.round) ?? null,
      trainLoss: meanLoss(mine),
      ...(listSites && { sites: perSite(mine) }),
      ...(roundScores && {
        scores: roundScores.scores.map((score) => {
          const d = roundScores.decisions.find((x) => x.siteId === score.siteId);
          return { ...score, action: d?.action ?? "keep", factor: d?.factor ?? 1, reason: d?.reason ?? "" };
        }),
      }),
    };
  });
  const pooledEvaluations = evaluations.filter(isBinaryEvaluation).filter((e) => poolable(e.global) && poolable(e.personalized) && poolable(e.local));
  const finalClasses = config.features.label.classes && pooledClasses(evaluations, config.features.label.classes, deps.logger);
  const [global, personalized, local] = (["global", "personalized", "local"] as const).map((m) => pooledMetrics(pooledEvaluations.map((e) => e[m]), deps.logger, `final ${m}`));
  const final = global && personalized && local
    ? { global, personalized, local, sites: pooledEvaluations.length, operatingPoint: operatingPoint(config.operatingPoint ?? DEFAULT_OPERATING_POINT, pooledEvaluations) }
    : null;
  return {
    federation: config.id,
    strategy: config.strategy,
    codec: config.codec,
    rounds: config.rounds,
    ...(config.async && { async: config.async }),
    ...(finalClasses && { finalClasses }),
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
    ...(perSiteOmitted && { perSiteOmitted }),
    rejections,
    rejectionsTotal,
    failures,
    blocked,
    evaluations,
    final,
    quality,
    ...(agreement && { features: agreement }),
    ...(config.privacy && { privacy: sitePrivacy(sites.map((s) => s.id), updates, declines) }),
  };
}

/**
 * Each site's ledger as it last reported it (its latest update or refusal, whichever round is
 * later), with the rounds it refused; sites that have reported nothing yet are left out.
 */
function sitePrivacy(siteIds: readonly string[], updates: readonly CountedUpdate[], declines: readonly StoredDecline[]): SitePrivacy[] {
  // Grouped by site once: every site's every update is tens of thousands in a long consortium.
  const reports = new Map<string, { round: number; privacy: NonNullable<CountedUpdate["privacy"]> }[]>();
  const add = (siteId: string, report: { round: number; privacy: NonNullable<CountedUpdate["privacy"]> }) => {
    const list = reports.get(siteId);
    if (list) list.push(report);
    else reports.set(siteId, [report]);
  };
  for (const u of updates) if (u.privacy) add(u.siteId, { round: u.round, privacy: u.privacy });
  for (const d of declines) add(d.siteId, { round: d.round, privacy: d.privacy });
  return siteIds.flatMap((siteId) => {
    const latest = (reports.get(siteId) ?? []).sort((a, b) => a.round - b.round).at(-1);
    if (!latest) return [];
    const refusedRounds = declines.filter((d) => d.siteId === siteId).map((d) => d.round).sort((a, b) => a - b);
    return [{ siteId, ...latest.privacy, refusedRounds }];
  });
}

/**
 * A K-class model's final counts pooled over the sites (those of its K classes, binned as sites submit them), each
 * model's summary checked against its schema as `pooledMetrics` does; undefined when no site sent
 * K-class counts.
 */
function pooledClasses(evaluations: readonly StoredEvaluation[], names: readonly string[], logger: CoordinatorDeps["logger"]): FederationStatus["finalClasses"] {
  const classed = evaluations.flatMap((e) => (e.classes && [e.classes.global, e.classes.personalized, e.classes.local].every((c) => c.pos[0]?.length === MULTICLASS_BINS) ? [e.classes] : []));
  const k = names.length;
  const same = classed.filter((c) => c.global.k === k && c.personalized.k === k && c.local.k === k);
  if (same.length === 0) return undefined;
  const summary = (m: "global" | "personalized" | "local") => {
    const parsed = MulticlassSummary.safeParse(multiclassSummary(mergeMulticlass(same.map((c) => c[m]))));
    if (parsed.success) return parsed.data;
    logger.error("pooled metrics outside their range passed over", { what: `final ${m} (classes)`, issues: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) });
    return null;
  };
  const [global, personalized, local] = [summary("global"), summary("personalized"), summary("local")];
  return global && personalized && local ? { names: [...names], global, personalized, local, sites: same.length } : undefined;
}
