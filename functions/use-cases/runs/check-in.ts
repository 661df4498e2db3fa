/**
 * @module
 * A site's check-in between runs: its current statistics compared with the champion's training
 * snapshot of the same site (the statistics it sent to the run that trained the champion, or to
 * the newest earlier run that trained on it when that run left the site out), and
 * the champion's counts on its newly labelled rows with those it scored at that run's evaluation
 * (`core/drift`). Under the consortium's drift policy a flag may raise a `drift` trigger (once per
 * site between two run starts) or keep the site's new data out of training (a unit error, by default) until a
 * check-in without it. The rows the sites report raise a `new-data` trigger (once per champion)
 * when they have grown by `continuous.newData.growth` over the champion's training rows (once
 * between two run starts, so a candidate the gate rejects does not silence it). Every
 * check-in is kept with what was made of it.
 */
import { detectDrift, driftDecision, DriftPolicy, type DriftFlag } from "../../../core/drift/index.ts";
import { ModelCard } from "../../../core/registry/index.ts";
import { CheckInRecord, DriftExclusion, RunRecord, type CheckIn, type CheckInAnswer, type TriggerKind } from "../../../core/schemas/consortium.ts";
import type { FederationConfig } from "../../../core/schemas/federation.ts";
import { SiteStats } from "../../../core/schemas/site-stats.ts";
import { StoredEvaluation } from "../../../core/schemas/task.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { readJson, writeJson } from "../../repo.ts";
import { currentChampion } from "../registry/champion.ts";
import { readConsortium } from "./advance-runs.ts";
import { consortiumDeps, newestRunSeq, runSeqs, scopeToRun } from "./run-scope.ts";
import { raiseOnce } from "./triggers.ts";
import { loadFederation } from "../load-federation.ts";

export async function submitCheckIn(deps: CoordinatorDeps, siteId: string, checkIn: CheckIn): Promise<CheckInAnswer> {
  const root = consortiumDeps(deps);
  const at = root.clock.now();
  const config = (await readConsortium(root)) ?? (await loadFederation(deps)).config;
  const policy = config.continuous?.drift ?? DriftPolicy.parse({});
  const champion = await currentChampion(root);
  const snapshot = champion === null ? null : await siteSnapshot(root, champion.version, siteId);
  let flags: DriftFlag[] = [];
  if (champion !== null && snapshot !== null) {
    const evaluation = snapshot.evaluation && snapshot.version === champion.version && checkIn.champion?.version === champion.version ? { reference: snapshot.evaluation, current: checkIn.champion.counts } : undefined;
    flags = detectDrift(snapshot.stats, checkIn.stats, config.features, policy, siteId, { ...(evaluation && { evaluation }), ...(config.statsNoise && { noise: config.statsNoise }) });
  }
  const decision = driftDecision(flags, policy);
  const excluded = decision.excludeSites.includes(siteId);
  const triggered: TriggerKind[] = [];
  // Compared: the exclusion follows this check-in's flags. Not compared (no snapshot of this site): whatever was decided stands.
  if (champion !== null && snapshot !== null) {
    if (excluded) {
      const exclusion: DriftExclusion = { siteId, since: at, championVersion: champion.version, reasons: decision.reasons.filter((r) => r.startsWith("leave out")) };
      const kept = await readJson(root.store, keys.driftExclusion(siteId), DriftExclusion).catch(() => null);
      await writeJson(root.store, keys.driftExclusion(siteId), kept && kept.championVersion === champion.version ? { ...exclusion, since: kept.since } : exclusion);
    } else {
      await root.store.delete(keys.driftExclusion(siteId));
    }
    if (decision.trigger) {
      if (await raiseOnce(root, "drift", decision.reasons.filter((r) => r.startsWith("retrain")).join("; "), `${siteId}-since-run-${await newestRunSeq(root) ?? 0}`)) triggered.push("drift");
    }
  }
  if (champion !== null && (await grownData(root, config, champion.version, { siteId, rows: checkIn.stats.rows }))) triggered.push("new-data");
  const stillExcluded = snapshot === null ? (await readJson(root.store, keys.driftExclusion(siteId), DriftExclusion).catch(() => null)) !== null : excluded;
  const answer: CheckInAnswer = { comparedWith: snapshot?.version ?? null, flags, reasons: decision.reasons, excluded: stillExcluded, triggered };
  const record: CheckInRecord = { siteId, at, rows: checkIn.stats.rows, dataVersion: checkIn.dataVersion, answer };
  await writeJson(root.store, keys.checkIn(siteId, at), record, { ifAbsent: true });
  await writeJson(root.store, keys.latestCheckIn(siteId), record);
  for (const f of flags.filter((x) => x.severity === "act")) root.logger.warn("drift", { siteId, check: f.check, feature: f.feature, reason: f.reason });
  return answer;
}

/**
 * The site's training snapshot: its statistics in the run that trained the champion, or, when
 * that run left the site out (a drift exclusion, a quality flag) or it did not take part, in the
 * run of the newest earlier version that trained on it; with the counts it reported of that run's
 * model. Null when no registered version trained on the site.
 */
async function siteSnapshot(deps: CoordinatorDeps, champion: number, siteId: string): Promise<{ version: number; stats: SiteStats; evaluation: StoredEvaluation["global"] | null } | null> {
  for (let version = champion; version >= 1; version--) {
    const card = await readJson(deps.store, keys.registryCard(version), ModelCard).catch(() => null);
    if (card === null || !card.sites.some((s) => s.siteId === siteId)) continue;
    const seq = await runOf(deps, card.run);
    if (seq === null) continue;
    const run = scopeToRun(deps, seq);
    const stats = await readJson(run.store, keys.stats(siteId), SiteStats).catch(() => null);
    if (stats === null) continue;
    const evaluation = await readJson(run.store, keys.evaluation(siteId), StoredEvaluation).catch(() => null);
    return { version, stats, evaluation: evaluation?.global ?? null };
  }
  return null;
}

/** The number of the run with this id (newest first; a store from before runs holds its one run as 0). */
async function runOf(deps: CoordinatorDeps, id: string): Promise<number | null> {
  for (const seq of runSeqs(await deps.store.list(keys.runsPrefix)).reverse()) {
    if ((await readJson(deps.store, keys.run(seq), RunRecord).catch(() => null))?.id === id) return seq;
  }
  return (await deps.store.head(keys.federation)) !== null ? 0 : null;
}

/** Raises the new-data trigger (once between two run starts) when the rows the sites last reported have grown by the policy's share over the champion's training rows; whether this call raised it. */
async function grownData(deps: CoordinatorDeps, config: FederationConfig, version: number, now: { readonly siteId: string; readonly rows: number }): Promise<boolean> {
  const growth = config.continuous?.newData?.growth;
  if (growth === undefined) return false;
  const card = await readJson(deps.store, keys.registryCard(version), ModelCard).catch(() => null);
  if (card === null) return false;
  const trained = new Map(card.sites.map((s) => [s.siteId, s.rows]));
  const latest = await Promise.all((await deps.store.list(keys.latestCheckInsPrefix)).map((k) => readJson(deps.store, k, CheckInRecord).catch(() => null)));
  const then = [...trained.values()].reduce((a, b) => a + b, 0);
  // A site that has not checked in counts with its training rows; one that joined since counts whole.
  const reported = new Map(latest.filter((r): r is CheckInRecord => r !== null).map((r) => [r.siteId, r.rows]));
  reported.set(now.siteId, now.rows);
  const total = [...new Set([...trained.keys(), ...reported.keys()])].reduce((sum, id) => sum + (reported.get(id) ?? trained.get(id) ?? 0), 0);
  if (then <= 0 || (total - then) / then < growth) return false;
  return (await raiseOnce(deps, "new-data", `the sites report ${total} rows, ${(((total - then) / then) * 100).toFixed(0)} % more than the ${then} version ${version} was trained on (policy: ${(growth * 100).toFixed(0)} %)`, `since-run-${(await newestRunSeq(deps)) ?? 0}`)) !== null;
}
