/**
 * @module
 * A finished run registers its model as a version of the consortium's registry: the version number
 * is reserved write-once by the run, then its weights, preprocessing and card are written once
 * (the card last: a version with a card is registered). Registering the same run again answers the
 * version it has. The first version goes through the gate on its own (it must beat chance) and,
 * passing, becomes the champion; a later one is judged against the champion only on both models'
 * counts from the same rows, which a run does not collect yet, so its decision says it is not judged.
 */
import { z } from "zod";
import { sha256Hex } from "../../../core/codec/index.ts";
import { configHash, decidePromotion, federatedEvaluation, ModelCard, RegistryDecision, statsHash, type SiteCounts } from "../../../core/registry/index.ts";
import { Preprocessing } from "../../../core/schemas/preprocessing.ts";
import { SiteStats } from "../../../core/schemas/site-stats.ts";
import { StoredEvaluation } from "../../../core/schemas/task.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { readJson, writeJson } from "../../repo.ts";
import { loadFederation } from "../load-federation.ts";
import { readStatus } from "../read-status.ts";
import { currentChampion, moveChampion } from "./champion.ts";

/** Which run holds a version number. */
const VersionRun = z.object({ run: z.string().min(1) });


/** The most versions one registry holds: far past any consortium's life, and a bound on the search. */
const MAX_VERSIONS = 999_999;

/** The version a run holds, or the next free number reserved for it. */
async function reserve(deps: CoordinatorDeps, run: string): Promise<{ version: number; reserved: boolean }> {
  const listed = await deps.store.list(keys.registryVersionsPrefix);
  const numbers = [...new Set(listed.map((k) => Number(/versions\/(\d{6})\//.exec(k)?.[1] ?? Number.NaN)).filter(Number.isInteger))].sort((a, b) => a - b);
  for (const v of numbers) {
    if ((await readJson(deps.store, keys.registryRun(v), VersionRun))?.run === run) return { version: v, reserved: false };
  }
  for (let v = (numbers.at(-1) ?? 0) + 1; v <= MAX_VERSIONS; v++) {
    if (await writeJson(deps.store, keys.registryRun(v), { run }, { ifAbsent: true })) return { version: v, reserved: true };
    // Taken meanwhile: by this run (a concurrent registration of it), or by another.
    if ((await readJson(deps.store, keys.registryRun(v), VersionRun))?.run === run) return { version: v, reserved: false };
  }
  throw new Error("the registry holds no free version number");
}

/**
 * Registers the finished run's model; null while the run is not done. Idempotent: the same run
 * answers the same version, and a registration cut short is finished.
 */
export async function registerRun(deps: CoordinatorDeps): Promise<{ version: number; decision: RegistryDecision } | null> {
  const { config, state } = await loadFederation(deps);
  if (state.phase !== "done") return null;
  const { version } = await reserve(deps, config.id);
  const done = await readJson(deps.store, keys.registryDecision(version), RegistryDecision);
  if (done && (await deps.store.get(keys.registryCard(version))) !== null) return { version, decision: done };
  const weights = await deps.store.get(keys.modelWeights(state.modelVersion));
  const preprocessingBytes = await deps.store.get(keys.preprocessing);
  const preprocessing = await readJson(deps.store, keys.preprocessing, Preprocessing);
  if (!weights || !preprocessingBytes || !preprocessing) throw new Error(`run ${config.id} is done but its model v${state.modelVersion} or preprocessing is missing from the store`);
  const evaluations = (await Promise.all((await deps.store.list(keys.evaluationsPrefix)).map((k) => readJson(deps.store, k, StoredEvaluation)))).filter((e): e is StoredEvaluation => e !== null);
  const counts: SiteCounts = Object.fromEntries(evaluations.map((e) => [e.siteId, e.global]));
  const stats = await Promise.all(
    evaluations.map(async (e) => {
      const s = await readJson(deps.store, keys.stats(e.siteId), SiteStats);
      return s && { siteId: e.siteId, rows: s.rows, positives: s.positives, statsSha256: statsHash(s) };
    }),
  );
  const privacy = config.privacy ? (await readStatus(deps)).privacy : undefined;
  const champion = await currentChampion(deps);
  const card = ModelCard.parse({
    version,
    run: config.id,
    parent: champion !== null && champion.version < version ? champion.version : null,
    createdAt: deps.clock.now(),
    configSha256: configHash(config),
    strategy: config.strategy,
    codec: config.codec,
    model: config.model,
    features: preprocessing.inputs,
    artifacts: { weightsSha256: sha256Hex(weights), preprocessingSha256: sha256Hex(preprocessingBytes) },
    ...(privacy && { privacy: privacy.map((p) => ({ siteId: p.siteId, epsilon: p.epsilon, delta: p.delta, budget: p.budget })) }),
    sites: stats.filter((s) => s !== null),
    evaluation: federatedEvaluation(counts),
  });
  const binary = { ifAbsent: true, contentType: "application/octet-stream" };
  await deps.store.put(keys.registryWeights(version), weights, binary);
  await deps.store.put(keys.registryPreprocessing(version), preprocessingBytes, { ifAbsent: true, contentType: "application/json" });
  await writeJson(deps.store, keys.registryCard(version), card, { ifAbsent: true });
  const decision = await decide(deps, version, counts, champion === null);
  await writeJson(deps.store, keys.registryDecision(version), decision, { ifAbsent: true });
  const recorded = (await readJson(deps.store, keys.registryDecision(version), RegistryDecision)) ?? decision;
  deps.logger.info("run registered", { run: config.id, version, promoted: recorded.promoted });
  return { version, decision: recorded };
}

/** The gate's judgement of a new version, and the champion moved when it passes. */
async function decide(deps: CoordinatorDeps, version: number, counts: SiteCounts, first: boolean): Promise<RegistryDecision> {
  const at = deps.clock.now();
  if (!first) {
    return { version, at, judged: false, promoted: false, reason: "not judged: the gate compares a candidate with the champion on the same rows, and this run did not evaluate the champion; promote it by hand (consilium models promote) after comparing their cards" };
  }
  const gate = decidePromotion({ candidate: counts, champion: null });
  if (!gate.promote) return { version, at, judged: true, promoted: false, reason: gate.reason, gate };
  try {
    await moveChampion(deps, { version, action: "promote", by: "gate", reason: gate.reason, expected: null });
    return { version, at, judged: true, promoted: true, reason: gate.reason, gate };
  } catch (err) {
    // Another version became the champion meanwhile (an operator): this one stays a candidate.
    return { version, at, judged: true, promoted: false, reason: `${gate.reason}; not promoted: ${(err as Error).message}`, gate };
  }
}
