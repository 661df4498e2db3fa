import { modelLayout, outputCount } from "../../core/model/layout.ts";
import { mergeSiteStats } from "../../core/preprocess/merge-stats.ts";
import type { FederationConfig } from "../../core/schemas/federation.ts";
import { Preprocessing } from "../../core/schemas/preprocessing.ts";
import type { Rejection } from "../../core/schemas/round.ts";
import { SiteStats } from "../../core/schemas/site-stats.ts";
import { createStrategy } from "../../core/strategy/create-strategy.ts";
import { QualityReport, qualityReport } from "../../core/quality/quality-report.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { mustReadJson, readJson, writeJson } from "../repo.ts";
import { loadFederation } from "./load-federation.ts";
import { saveModel } from "./models.ts";
import { advance } from "./open-round.ts";
import { recordStatsFailure } from "./record-stats-failure.ts";
import { DriftExclusion } from "../../core/schemas/consortium.ts";
import { firstBody } from "./runs/warm-start.ts";

export type StatsProgress = { readonly kind: "waiting" } | { readonly kind: "complete" } | { readonly kind: "blocked"; readonly failure: Rejection };

/**
 * Leaves the stats phase once every expected site has reported: runs the data-quality checks
 * (`quality.json`; under the `exclude` policy flagged sites are left out from here on), fixes the
 * consortium's preprocessing from the others' statistics, stores model 0 and opens round 1. Each step is write-once or rewrites the same
 * value, so a stats post, a task poll or the cron tick may run it again after a crash part-way.
 * Statistics that cannot be merged block the phase (recorded, not thrown) until the set changes.
 */
export async function completeStats(deps: CoordinatorDeps, config: FederationConfig): Promise<StatsProgress> {
  const reported = await deps.store.list(keys.statsPrefix);
  if (reported.length < config.expectedSites) return { kind: "waiting" };
  // A region checks its sites' data, then takes its preprocessing and first round from the global coordinator, through its relay.
  if (config.upstream) {
    if ((await deps.store.head(keys.quality)) === null) await keepQuality(deps, await qualityWithDrift(deps, config, await readReported(deps, reported)));
    return { kind: "waiting" };
  }
  if ((await deps.store.head(keys.preprocessing)) === null) {
    const all = await readReported(deps, reported);
    // The checks run on every site's statistics; an excluded site's do not shape the preprocessing.
    const fresh = await qualityWithDrift(deps, config, all);
    const mergeWithout = (excluded: readonly string[]) => {
      const kept = all.filter((s) => !excluded.includes(s.siteId));
      return checkedPreprocessing(mergeSiteStats(kept.map((s) => s.stats), config.features, kept.map((s) => s.siteId)));
    };
    // Blocked: nothing is kept, so a changed set of statistics is checked afresh.
    const blocked = async (err: unknown): Promise<StatsProgress> => ({ kind: "blocked", failure: await recordStatsFailure(deps, err instanceof Error ? err.message : String(err)) });
    let merged: Preprocessing;
    try {
      merged = mergeWithout(fresh.excluded);
    } catch (err) {
      return blocked(err);
    }
    // Written once, with the preprocessing it excludes for: a completer that lost the race goes on from the first report.
    const quality = await keepQuality(deps, fresh);
    if (quality.excluded.join() !== fresh.excluded.join()) {
      try {
        merged = mergeWithout(quality.excluded);
      } catch (err) {
        return blocked(err);
      }
    }
    // The model must take the inputs the merge makes (a cnn's image, a model.json's width): checked before anything is kept, so a misfit blocks the phase with its reason instead of wedging every later request.
    try {
      modelLayout(config.model, merged.inputs.length, outputCount(merged.label));
    } catch (err) {
      return blocked(err);
    }
    if (await writeJson(deps.store, keys.preprocessing, merged, { ifAbsent: true })) {
      for (const f of merged.agreement?.features ?? []) {
        if (!f.used) deps.logger.warn("feature left out: too few sites provide it", { feature: f.name, providedBy: f.providedBy, sites: f.sites, quorum: merged.agreement?.quorum });
      }
    }
    await deps.store.delete(keys.statsFailure);
  }
  // Two completers may race: both go on from whichever preprocessing was written first.
  const prep = await mustReadJson(deps.store, keys.preprocessing, Preprocessing, "NO_PREPROCESSING", "preprocessing");
  const layout = modelLayout(config.model, prep.inputs.length, outputCount(prep.label));
  const strategy = createStrategy(config.strategy);
  const control = strategy.controlVariates ? strategy.init(layout.bodySize).vectors.c : undefined;
  // The champion's body when the run started from one that fits; fresh weights otherwise (recorded once).
  const { body, warmStart } = await firstBody(deps, config, layout, prep);
  if (warmStart.from !== null) deps.logger.info("warm start", { from: warmStart.from });
  await saveModel(deps, body, { version: 0, round: 0, strategy: strategy.spec, sites: [], samples: 0 }, control);
  // A slow completer must not reopen round 1 over a federation that has moved on meanwhile.
  if ((await loadFederation(deps)).state.phase === "stats") await advance(deps, config, 1, 0);
  return { kind: "complete" };
}

/**
 * The merged preprocessing, as it will read back: every number finite and the whole its own
 * schema's. A merge that overflowed would otherwise be written once and fail every later read.
 */
function checkedPreprocessing(merged: Preprocessing): Preprocessing {
  const bad = nonFinitePath(merged, "preprocessing");
  if (bad) throw new Error(`the merged statistics are not finite at ${bad}; a site's moments are out of range`);
  const parsed = Preprocessing.safeParse(JSON.parse(JSON.stringify(merged)));
  if (!parsed.success) throw new Error(`the merged statistics do not make a preprocessing: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return merged;
}

function nonFinitePath(value: unknown, path: string): string | null {
  if (typeof value === "number") return Number.isFinite(value) ? null : path;
  if (value === null || typeof value !== "object") return null;
  for (const [k, v] of Object.entries(value)) {
    const bad = nonFinitePath(v, `${path}.${k}`);
    if (bad) return bad;
  }
  return null;
}

/** Every reported site's statistics, with its id (from the key `stats/{site}.json`). */
export async function readReported(deps: CoordinatorDeps, reported: readonly string[]): Promise<{ siteId: string; stats: SiteStats }[]> {
  return Promise.all(reported.map(async (k) => ({ siteId: k.slice(keys.statsPrefix.length, -".json".length), stats: await mustReadJson(deps.store, k, SiteStats, "CORRUPT_STATE", k) })));
}

/** The data-quality checks on the sites' statistics, under the federation's policy. */
function checkQuality(config: FederationConfig, sites: readonly { siteId: string; stats: SiteStats }[]): QualityReport {
  return qualityReport(config.quality?.policy ?? "warn", sites, { noisy: config.statsNoise !== undefined });
}

/** Sites whose new data the consortium's drift policy keeps out of training (`runs/check-in.ts`), with why. */
async function driftExclusions(deps: CoordinatorDeps): Promise<DriftExclusion[]> {
  const listed = await deps.store.list(keys.driftExclusionsPrefix);
  const read = await Promise.all(listed.map((k) => readJson(deps.store, k, DriftExclusion).catch(() => null)));
  return read.filter((x): x is DriftExclusion => x !== null);
}

/**
 * The quality report with the drift exclusions of sites in this run: whatever the quality policy,
 * a site whose new data a drift flag excludes (a unit error) is left out and said so, never
 * trained on silently.
 */
async function qualityWithDrift(deps: CoordinatorDeps, config: FederationConfig, sites: readonly { siteId: string; stats: SiteStats }[]): Promise<QualityReport> {
  const report = checkQuality(config, sites);
  const present = new Set(sites.map((s) => s.siteId));
  const extra = (await driftExclusions(deps)).filter((e) => present.has(e.siteId) && !report.excluded.includes(e.siteId));
  if (extra.length === 0) return report;
  const flags = extra.map((e) => ({ siteId: e.siteId, check: "unit" as const, reason: `drift since the check-in of ${new Date(e.since).toISOString()} against version ${e.championVersion}: ${e.reasons.join("; ")}`, score: 1 }));
  return { ...report, flags: [...report.flags, ...flags], excluded: [...report.excluded, ...extra.map((e) => e.siteId)].sort() };
}

/** Writes the quality report once (logging its flags when this call wrote it) and returns the one stored. */
async function keepQuality(deps: CoordinatorDeps, report: QualityReport): Promise<QualityReport> {
  if (await writeJson(deps.store, keys.quality, report, { ifAbsent: true })) {
    for (const f of report.flags) deps.logger.warn("data-quality flag", { siteId: f.siteId, check: f.check, reason: f.reason });
  }
  return mustReadJson(deps.store, keys.quality, QualityReport, "CORRUPT_STATE", "quality report");
}
