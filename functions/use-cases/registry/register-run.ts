/**
 * @module
 * A finished run registers its model as a version of the consortium's registry: the version number
 * is reserved write-once by the run, then its weights, preprocessing and card are written once
 * (the card last: a version with a card is registered). A run is known by its id, its config's
 * hash and its final model's digest, so a later run that reuses an id is a new version. Registering
 * the same run again answers the version it has. The first version goes through the gate on its
 * own (it must beat chance, across and within sites) and, passing, becomes the champion; a later
 * one is judged against the champion on both models' counts from the same rows (every site scores
 * the champion beside the run's model at evaluation) and replaces it when the gate passes.
 */
import { DEFAULT_OPERATING_POINT, operatingPoint, type OperatingPoint } from "../../../core/metrics/operating-point.ts";
import { z } from "zod";
import { sha256Hex } from "../../../core/codec/index.ts";
import { configHash, decidePromotion, federatedEvaluation, ModelCard, RegistryDecision, statsHash, type GateDecision, type GatePolicy, type SiteCounts } from "../../../core/registry/index.ts";
import { WarmStart } from "../../../core/schemas/consortium.ts";
import { Preprocessing } from "../../../core/schemas/preprocessing.ts";
import { ModelManifest } from "../../../core/schemas/round.ts";
import { SiteStats } from "../../../core/schemas/site-stats.ts";
import { isBinaryEvaluation, StoredEvaluation } from "../../../core/schemas/task.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { readJson, writeJson } from "../../repo.ts";
import { loadFederation } from "../load-federation.ts";
import { readStatus } from "../read-status.ts";
import { currentChampion, moveChampion } from "./champion.ts";
import { evaluationChampion } from "../runs/evaluation-champion.ts";
import { isAbandoned } from "../runs/abandon-run.ts";
import { auditCoordinator } from "../audit/append-audit.ts";

const withOperatingPoint = (op: OperatingPoint | null) => (op === null ? {} : { operatingPoint: op });

/** Which run holds a version number. */
const VersionRun = z.object({ run: z.string().min(1), key: z.string().regex(/^[0-9a-f]{64}$/) });
const RunDone = z.object({ version: z.int().min(1) });
const RunFailures = z.object({ attempts: z.int().min(1), error: z.string() });

/** After this many failed registrations of one run, the cron tick stops trying (a site's evaluation still does). */
export const MAX_REGISTRATION_ATTEMPTS = 10;


/** The most versions one registry holds: far past any consortium's life, and a bound on the search. */
const MAX_VERSIONS = 999_999;

/** A stored object, or null when it is missing or does not parse (a bad object never blocks the registry). */
async function readOrNull<T extends z.ZodType>(deps: CoordinatorDeps, key: string, schema: T): Promise<z.infer<T> | null> {
  try {
    return await readJson(deps.store, key, schema);
  } catch {
    deps.logger.warn("a registry object does not parse; passed over", { key });
    return null;
  }
}

/** The version a run holds, or the next free number reserved for it. */
async function reserve(deps: CoordinatorDeps, run: string, key: string): Promise<number> {
  const listed = await deps.store.list(keys.registryVersionsPrefix);
  const numbers = [...new Set(listed.map((k) => Number(/versions\/(\d{6})\//.exec(k)?.[1] ?? Number.NaN)).filter(Number.isInteger))].sort((a, b) => a - b);
  for (const v of numbers) {
    if ((await readOrNull(deps, keys.registryRun(v), VersionRun))?.key === key) return v;
  }
  for (let v = (numbers.at(-1) ?? 0) + 1; v <= MAX_VERSIONS; v++) {
    if (await writeJson(deps.store, keys.registryRun(v), { run, key }, { ifAbsent: true })) return v;
    // Taken meanwhile: by this run (a concurrent registration of it), or by another.
    if ((await readOrNull(deps, keys.registryRun(v), VersionRun))?.key === key) return v;
  }
  throw new Error("the registry holds no free version number");
}

/** What a finished run is known by: its id, its config's hash and its final model's digest. */
async function runIdentity(deps: CoordinatorDeps): Promise<{ run: string; key: string; modelVersion: number; configSha256: string } | null> {
  const { config, state } = await loadFederation(deps);
  // An abandoned run is done without a model to register. Nor is a K-class model registered: the
  // model card, the gate and the operating point are a binary model's (`federationProblem`
  // refuses continuous learning for one).
  if (state.phase !== "done" || config.features.label.classes !== undefined || (await isAbandoned(deps)) !== null) return null;
  const manifest = await readJson(deps.store, keys.modelManifest(state.modelVersion), ModelManifest);
  const configSha256 = configHash(config);
  return { run: config.id, key: sha256Hex(new TextEncoder().encode(`${config.id}\n${configSha256}\n${manifest?.sha256 ?? ""}`)), modelVersion: state.modelVersion, configSha256 };
}

/**
 * Where a finished run's registration stands: its version, `gave-up` after MAX_REGISTRATION_ATTEMPTS
 * failures, `abandoned` for a run an operator stopped, or null while the run is not done or not
 * yet registered.
 */
export async function registrationOf(deps: CoordinatorDeps): Promise<number | "gave-up" | "abandoned" | null> {
  if ((await isAbandoned(deps)) !== null) return "abandoned";
  const id = await runIdentity(deps);
  if (id === null) return null;
  const done = await readOrNull(deps, keys.registryRunDone(id.key), RunDone);
  if (done !== null) return done.version;
  const failures = await readOrNull(deps, keys.registryRunFailures(id.key), RunFailures);
  return failures !== null && failures.attempts >= MAX_REGISTRATION_ATTEMPTS ? "gave-up" : null;
}

/**
 * The cron tick's registration: finishes one cut short, quietly does nothing for a run registered
 * already (one read), and gives up on a run after MAX_REGISTRATION_ATTEMPTS failures, logged each
 * time; it never throws.
 */
export async function registerIfDone(deps: CoordinatorDeps): Promise<void> {
  try {
    const id = await runIdentity(deps);
    if (id === null || (await readOrNull(deps, keys.registryRunDone(id.key), RunDone)) !== null) return;
    const failures = await readOrNull(deps, keys.registryRunFailures(id.key), RunFailures);
    if (failures !== null && failures.attempts >= MAX_REGISTRATION_ATTEMPTS) return;
    try {
      await registerRun(deps);
    } catch (err) {
      const error = (err as Error).message;
      await writeJson(deps.store, keys.registryRunFailures(id.key), { attempts: (failures?.attempts ?? 0) + 1, error });
      deps.logger.warn("registering the finished run failed", { run: id.run, attempt: (failures?.attempts ?? 0) + 1, error });
    }
  } catch (err) {
    deps.logger.warn("could not tell whether the finished run is registered", { error: (err as Error).message });
  }
}

/**
 * Registers the finished run's model; null while the run is not done. Idempotent: the same run
 * answers the same version, and a registration cut short is finished.
 */
export async function registerRun(deps: CoordinatorDeps): Promise<{ version: number; decision: RegistryDecision } | null> {
  const id = await runIdentity(deps);
  if (id === null) return null;
  const { config } = await loadFederation(deps);
  const version = await reserve(deps, id.run, id.key);
  const done = await readOrNull(deps, keys.registryDecision(version), RegistryDecision);
  if (done && (await deps.store.get(keys.registryCard(version))) !== null) {
    await writeJson(deps.store, keys.registryRunDone(id.key), { version }, { ifAbsent: true });
    return { version, decision: done };
  }
  const weights = await deps.store.get(keys.modelWeights(id.modelVersion));
  const preprocessingBytes = await deps.store.get(keys.preprocessing);
  const preprocessing = await readJson(deps.store, keys.preprocessing, Preprocessing);
  if (!weights || !preprocessingBytes || !preprocessing) throw new Error(`run ${id.run} is done but its model v${id.modelVersion} or preprocessing is missing from the store`);
  const evaluations = (await Promise.all((await deps.store.list(keys.evaluationsPrefix)).map((k) => readJson(deps.store, k, StoredEvaluation)))).filter((e) => e !== null).filter(isBinaryEvaluation);
  const counts: SiteCounts = Object.fromEntries(evaluations.map((e) => [e.siteId, e.global]));
  const stats = await Promise.all(
    evaluations.map(async (e) => {
      const s = await readJson(deps.store, keys.stats(e.siteId), SiteStats);
      return s && { siteId: e.siteId, rows: s.rows, positives: s.positives, statsSha256: statsHash(s) };
    }),
  );
  const privacy = config.privacy ? (await readStatus(deps)).privacy : undefined;
  const card = ModelCard.parse({
    version,
    run: id.run,
    // The version whose body the run's first model was (null: fresh weights).
    parent: (await readJson(deps.store, keys.warmStart, WarmStart).catch(() => null))?.from ?? null,
    createdAt: deps.clock.now(),
    configSha256: id.configSha256,
    strategy: config.strategy,
    codec: config.codec,
    model: config.model,
    features: preprocessing.inputs,
    artifacts: { weightsSha256: sha256Hex(weights), preprocessingSha256: sha256Hex(preprocessingBytes) },
    ...(privacy && { privacy: privacy.map((p) => ({ siteId: p.siteId, epsilon: p.epsilon, delta: p.delta, budget: p.budget })) }),
    sites: stats.filter((s) => s !== null),
    evaluation: federatedEvaluation(counts),
    ...withOperatingPoint(operatingPoint(config.operatingPoint ?? DEFAULT_OPERATING_POINT, evaluations)),
  });
  const binary = { ifAbsent: true, contentType: "application/octet-stream" };
  await deps.store.put(keys.registryWeights(version), weights, binary);
  await deps.store.put(keys.registryPreprocessing(version), preprocessingBytes, { ifAbsent: true, contentType: "application/json" });
  await writeJson(deps.store, keys.registryCard(version), card, { ifAbsent: true });
  const decision = await decide(deps, version, counts, evaluations, config.continuous?.gate);
  await writeJson(deps.store, keys.registryDecision(version), decision, { ifAbsent: true });
  const recorded = (await readOrNull(deps, keys.registryDecision(version), RegistryDecision)) ?? decision;
  await writeJson(deps.store, keys.registryRunDone(id.key), { version }, { ifAbsent: true });
  deps.logger.info("run registered", { run: id.run, version, promoted: recorded.promoted });
  await auditCoordinator(deps, "model.register", `registry/${version}`, { id: id.run, promoted: recorded.promoted, judged: recorded.judged, reason: recorded.reason });
  return { version, decision: recorded };
}

/**
 * The gate's judgement of a new version, and the champion moved when it passes. The champion is
 * read first: a version that is the champion already (moved by a concurrent or an earlier,
 * interrupted registration of this run) is recorded promoted. A later version is judged against the
 * champion on the counts both models scored on the same held-out rows at each site; when the run
 * compared with another version than today's champion (an operator moved it meanwhile) or no site
 * scored the champion, it is recorded not judged, for the operator.
 */
async function decide(deps: CoordinatorDeps, version: number, counts: SiteCounts, evaluations: readonly StoredEvaluation[], policy?: GatePolicy): Promise<RegistryDecision> {
  const at = deps.clock.now();
  const champion = await currentChampion(deps);
  const promotedBy = (entry: { reason: string }): RegistryDecision => ({ version, at, judged: true, promoted: true, reason: entry.reason });
  if (champion?.version === version) {
    // Moved already, by a concurrent or interrupted registration of this run (or by hand): the gate's numbers are recorded all the same, from the same counts.
    const compared = await evaluationChampion(deps);
    // Only a move the gate made from the champion this run compared with carries the gate's numbers; an operator's keeps its own reason.
    if (champion.by !== "gate" || champion.previous !== compared) return promotedBy(champion);
    const held: SiteCounts = Object.fromEntries(evaluations.flatMap((e) => (compared !== null && e.champion?.version === compared ? [[e.siteId, e.champion.counts]] : [])));
    if (compared !== null && Object.keys(held).length === 0) return promotedBy(champion);
    const baseline = compared === null ? undefined : (await readOrNull(deps, keys.registryCard(compared), ModelCard))?.evaluation.pooled;
    const again = decidePromotion({ candidate: counts, champion: compared === null ? null : held, ...(baseline && { championBaseline: baseline }), ...(policy && { policy }) });
    return again.promote ? { version, at, judged: true, promoted: true, reason: again.reason, gate: again } : promotedBy(champion);
  }
  let gate: GateDecision;
  if (champion === null) {
    gate = decidePromotion({ candidate: counts, champion: null, ...(policy && { policy }) });
  } else {
    const compared = await evaluationChampion(deps);
    const held: SiteCounts = Object.fromEntries(evaluations.flatMap((e) => (e.champion?.version === champion.version ? [[e.siteId, e.champion.counts]] : [])));
    if (compared !== champion.version || Object.keys(held).length === 0) {
      const why =
        compared === null
          ? "this run's evaluation began before there was a champion"
          : compared !== champion.version
            ? `this run compared its model with version ${compared}, and the champion is now version ${champion.version}`
            : `no site scored the champion (version ${champion.version}) beside this run's model`;
      return { version, at, judged: false, promoted: false, reason: `not judged: ${why}; promote it by hand (consilium models promote) after comparing their cards` };
    }
    const baseline = (await readOrNull(deps, keys.registryCard(champion.version), ModelCard))?.evaluation.pooled;
    gate = decidePromotion({ candidate: counts, champion: held, ...(baseline && { championBaseline: baseline }), ...(policy && { policy }) });
  }
  if (!gate.promote) return { version, at, judged: true, promoted: false, reason: gate.reason, gate };
  try {
    await moveChampion(deps, { version, action: "promote", by: "gate", reason: gate.reason, expected: champion?.version ?? null });
    return { version, at, judged: true, promoted: true, reason: gate.reason, gate };
  } catch (err) {
    // A concurrent registration of this run moved it first, or an operator moved the champion meanwhile.
    const now = await currentChampion(deps);
    if (now?.version === version) return { version, at, judged: true, promoted: true, reason: gate.reason, gate };
    return { version, at, judged: true, promoted: false, reason: `${gate.reason}; not promoted: ${(err as Error).message}`, gate };
  }
}
