import { CodecSpec, decodeUpdate, encodeUpdate, encodeWithFeedback, sha256Hex, sharedSeed, usesErrorFeedback } from "../../core/codec/index.ts";
import { ConsiliumError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import type { Task } from "../../core/schemas/task.ts";
import type { Dataset } from "../../core/preprocess/transform.ts";
import { poison, type Attack } from "../simulation/attack.ts";
import { privatiseUpdate } from "../privacy/client-dp.ts";
import { loadLedger, planRound, recordRound, saveLedger, spentOf, type PrivacyLedger, type RoundPlan } from "../privacy/privacy-ledger.ts";
import { secureNormal, secureUniform } from "../privacy/secure-noise.ts";
import type { PrivacyPolicy, PrivacySpent } from "../../core/schemas/privacy.ts";
import { fetchModel } from "../session/fetch-model.ts";
import { localRound, type Controls } from "./local-round.ts";
import { extraMs } from "../simulation/site-speed.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { countRows } from "../model/score-rows.ts";
import { outputsOf } from "../../core/model/layout.ts";
import type { SiteSession } from "../session/site-session.ts";
import { loadControl, loadDitto, loadFedrepHead, loadResidual, residualFits, saveControl, saveDitto, saveFedrepHead, saveResidual, type Residual, type ResidualMeta } from "../session/site-state.ts";
import { dittoFitRows, dittoSplit } from "./choose-personal.ts";
import { trainBody, trainHead, type TrainOptions } from "./train.ts";
import { roundOptions } from "./train-rounds.ts";
import { checkMaskable, maskStep } from "../secure/secure-step.ts";

type TrainTask = Extract<Task, { kind: "train" }>;

/** The round's options plus FedProx's pull towards `base`, the global body the round started from. */
export function siteOptions(task: TrainTask, base: Float32Array, rng: () => number): TrainOptions {
  const opts = roundOptions(task.training, task.round, task.rounds, rng);
  const mu = task.training.proximalMu ?? 0;
  return mu > 0 ? { ...opts, proximal: { mu, anchor: base } } : opts;
}

async function controlsFor(s: SiteSession, task: TrainTask, length: number): Promise<Controls | null> {
  if (!task.control) return null;
  const server = decodeUpdate(await s.client.download(task.control), { length, codec: "float32" }).values;
  // Before the first aggregate every control is zero: a saved one belongs to an earlier federation.
  if (task.model.version === 0) return { server, site: new Float32Array(length) };
  const saved = s.siteControl?.length === length ? s.siteControl : s.stateDir ? await loadControl(s.stateDir, task.federation ?? null, length, s.logger) : null;
  return { server, site: saved ?? new Float32Array(length) };
}

/** The residual saved from an earlier accepted update, if it may be added to this one. */
async function residualFor(s: SiteSession, next: ResidualMeta): Promise<Float32Array | null> {
  const saved = s.residual ?? (s.stateDir ? await loadResidual(s.stateDir, s.logger) : null);
  return saved && residualFits(saved.meta, next) ? saved.values : null;
}

/**
 * Encodes the update under the task's codec spec. For codecs that take error feedback (top-k), it
 * first adds what compression dropped from the last accepted update and returns the new residual,
 * which counts only once the coordinator has accepted these bytes.
 */
async function encodeForTask(s: SiteSession, task: TrainTask, update: Float32Array): Promise<{ bytes: Uint8Array; residual: Residual | null }> {
  const { name, ...options } = CodecSpec.parse(task.codec);
  // Stochastic rounding (int8, int4) draws from its own stream, so training's draws stay as they
  // were, and from the task's seeds, so the same task always encodes to the same bytes. Rand-k
  // draws its coordinates from the round's seed, the same at every site.
  const rounding = seededRandom((task.seed ^ s.siteSeed ^ ROUNDING_SEED) >>> 0);
  const encode = (values: Float32Array) => encodeUpdate(values, name, { ...options, rng: rounding, seed: sharedSeed(task.seed) });
  if (!usesErrorFeedback(name)) return { bytes: encode(update), residual: null };
  const meta: ResidualMeta = { federation: task.federation ?? null, codec: task.codec, round: task.round, length: update.length };
  const { bytes, residual } = encodeWithFeedback(update, await residualFor(s, meta), encode);
  return { bytes, residual: { meta, values: residual } };
}

/** Simulation only: a malicious site replaces the body part of its update (its control delta stays honest). */
function poisonBody(attack: Attack, update: Float32Array, base: Float32Array, train: Dataset, task: TrainTask, rng: () => number): Float32Array {
  const n = base.length;
  const samples: Float32Array[] = [];
  if (attack.kind === "alie") {
    const opts = siteOptions(task, base, rng);
    for (let k = 0; k < ALIE_SAMPLES; k++) samples.push(localRound(task.layout, base, bootstrap(train, rng), opts, null).update);
  }
  const out = Float32Array.from(update);
  out.set(poison(attack, update.subarray(0, n), samples, rng), 0);
  return out;
}

const ALIE_SAMPLES = 4;

/** Mixed into the training seed for the codec's rounding stream. */
const ROUNDING_SEED = 0x5eedc0de;

function bootstrap(d: Dataset, rng: () => number): Dataset {
  const x = new Float32Array(d.x.length);
  const y = new Uint8Array(d.rows);
  for (let r = 0; r < d.rows; r++) {
    const i = Math.floor(rng() * d.rows);
    x.set(d.x.subarray(i * d.dim, (i + 1) * d.dim), r * d.dim);
    y[r] = d.y[i] ?? 0;
  }
  return { x, y, rows: d.rows, dim: d.dim };
}

/** What a training task came to: an update sent, or the round declined for the site's privacy budget. */
export type TrainOutcome =
  | { readonly kind: "trained"; readonly loss: number; readonly bytesUp: number }
  | { readonly kind: "declined"; readonly message: string; readonly privacy: PrivacySpent };

/**
 * One round at the site: download the base model, measure it on the held-out rows (counts only),
 * train, and send the encoded delta through the presigned URL (or part URLs), then its manifest.
 * Under a privacy policy the site first plans the round against its ledger (`planRound`) and
 * declines it when it would exceed its budget; otherwise it trains privately (DP-SGD, or
 * client-level clipping and noise), writes the spending to its ledger before the update leaves,
 * and reports the ledger with the update, without the (non-private) training loss.
 */
export async function trainStep(s: SiteSession, task: TrainTask): Promise<TrainOutcome> {
  const before = s.client.traffic.down;
  const { train, test } = s.prepared(task.preprocessing);
  if (train.rows === 0) throw new ConsiliumError("NO_TRAINING_ROWS", "this site has no labelled training rows to train on", 400);
  const rng = seededRandom((task.seed ^ s.siteSeed) >>> 0);
  const privacy = task.privacy;
  const plan = privacy ? await planFor(s, task, privacy, train.rows) : null;
  if (plan?.refuse) return decline(s, task, plan);
  if (task.secure) await checkMaskable(s, task.round, task.secure);
  const base = await fetchModel(s, task.model, task.layout.bodySize);
  const measured = countRows(task.layout, base, null, test);
  const baseCounts = measured.kind === "binary" ? { baseMetrics: measured.counts } : { baseClasses: measured.counts };
  const opts = siteOptions(task, base, rng);
  // Label flipping: each class to its mirror (K − 1 − y; 1 − y for a binary label).
  const classes = Math.max(2, outputsOf(task.layout));
  const data = s.attack?.kind === "label-flip" ? { ...train, y: train.y.map((v) => classes - 1 - v) } : train;
  const dp = privacy?.level === "sample" && plan
    ? { clip: privacy.clip, noiseMultiplier: plan.ledger.noiseMultiplier, sampleRate: plan.q, noise: secureNormal, uniform: secureUniform }
    : undefined;
  const started = performance.now();
  const head = await fedrepHead(s, task, base, train);
  // fedrep: the body trains on every row, with the head in place on the fit share only, so that the personal model is judged on rows it was never fitted to.
  const withHead = head && { head, headRows: dittoFitRows(train, s.siteSeed) };
  const result = localRound(task.layout, base, data, { ...opts, ...(dp && { dp }), ...withHead }, await controlsFor(s, task, base.length));
  const computeMs = performance.now() - started;
  const trained = s.attack ? poisonBody(s.attack, result.update, base, train, task, rng) : result.update;
  // In the clear each update carries the whole noise; under secure aggregation the coordinator
  // sees only the sum, and each site adds its share so that enough survivors make the whole.
  const noised = privacy?.level === "client" && plan !== null;
  const update = noised ? privatiseUpdate(trained, privacy.clip, plan.ledger.noiseMultiplier, task.secure?.noiseShares ?? 1, secureNormal) : trained;
  const secure = task.secure && (await maskStep(s, task.round, task.secure, update, noised));
  const { bytes, residual } = secure ? { bytes: secure.bytes, residual: null } : await encodeForTask(s, task, update);
  if (bytes.length !== task.upload.byteLength) throw new ConsiliumError("SIZE_MISMATCH", `encoded update is ${bytes.length} bytes, coordinator expects ${task.upload.byteLength}`, 400);
  // A simulated slower site sends its update when it would have finished.
  if (s.speed) await sleep(extraMs(s.speed, computeMs, bytes.length, s.client.traffic.down - before));
  // The spending is on record before anything it paid for leaves the site.
  const ledger = plan && (await keepLedger(s, recordRound(plan, task.round, privacy?.level === "sample" ? result.steps : 1)));
  const multipart = await s.client.sendUpdate(task.upload, bytes);
  if (secure) {
    // Nothing of the training rows beyond the held-out counts: no loss, no row count (the weight is public).
    const bytesDown = s.client.traffic.down - before;
    await s.client.postSecure(task.round, { kind: "masked-input", manifest: secure.manifest, ...baseCounts, bytesDown, ...(ledger && { privacy: spentOf(ledger) }), ...multipart });
    await dittoStep(s, task, base, train);
    await keepFedrepHead(s, task, head);
    return { kind: "trained", loss: result.loss, bytesUp: bytes.length };
  }
  await s.client.postUpdate({
    round: task.round,
    samples: task.weight ?? train.rows,
    codec: task.codec,
    byteLength: bytes.length,
    sha256: sha256Hex(bytes),
    ...baseCounts,
    // The training loss is a function of the training rows that no noise covers: not sent under a policy.
    ...(!ledger && { trainLoss: result.loss }),
    bytesDown: s.client.traffic.down - before,
    ...(ledger && { privacy: spentOf(ledger) }),
    ...multipart,
  });
  // The new control counts only once the coordinator has taken the update that carries its change:
  // a refused update must leave the site's control where the server's average still has it.
  if (result.siteControl) {
    s.siteControl = result.siteControl;
    if (s.stateDir) await saveControl(s.stateDir, task.federation ?? null, result.siteControl);
  }
  // Likewise the residual: a refused update sent nothing, so the last accepted one's residual stands.
  if (residual) {
    s.residual = residual;
    if (s.stateDir) await saveResidual(s.stateDir, residual);
  }
  await dittoStep(s, task, base, train);
  await keepFedrepHead(s, task, head);
  return { kind: "trained", loss: result.loss, bytesUp: bytes.length };
}

/** The site's Ditto model of `federation` at this length: in memory, else in its state folder, else null. */
export async function heldDitto(s: SiteSession, federation: string | null, length: number): Promise<Float32Array | null> {
  if (s.ditto && s.ditto.federation === federation && s.ditto.body.length === length) return s.ditto.body;
  return s.stateDir ? loadDitto(s.stateDir, federation, length, s.logger) : null;
}

/** Mixed into the seed of Ditto's own minibatches. */
const DITTO_SEED = 0xd1770;

/**
 * Ditto (Li et al. 2021): the site's own model v takes the round's local steps on the fit share of
 * its training rows (the validation share stays unseen, for the closing choice) with λ/2·‖v − w‖²
 * pulling it towards the round's global model w. It never leaves the site; it is kept in memory and
 * in the state folder. Off unless the federation's personalization is `ditto`.
 */
export async function dittoStep(s: SiteSession, task: TrainTask, base: Float32Array, train: Dataset): Promise<void> {
  const how = task.training.personalization;
  if (how?.method !== "ditto") return;
  const federation = task.federation ?? null;
  // A federation's first round starts Ditto's model afresh: one kept under the same id is another run's (a recreated federation, another seed).
  const fresh = task.model.version === 0;
  const kept = fresh ? null : await heldDitto(s, federation, base.length);
  const { fit } = dittoSplit(train, s.siteSeed);
  const opts = roundOptions(task.training, task.round, task.rounds, seededRandom((task.seed ^ s.siteSeed ^ DITTO_SEED) >>> 0));
  const body = trainBody(task.layout, kept ?? base, fit, { ...opts, proximal: { mu: how.lambda, anchor: base } }).params;
  s.ditto = { federation, body };
  if (s.stateDir) await saveDitto(s.stateDir, federation, body);
}

/** The site's fedrep head of `federation` at this length: in memory, else in its state folder, else null. */
export async function heldFedrepHead(s: SiteSession, federation: string | null, length: number): Promise<Float32Array | null> {
  if (s.fedrepHead && s.fedrepHead.federation === federation && s.fedrepHead.head.length === length) return s.fedrepHead.head;
  return s.stateDir ? loadFedrepHead(s.stateDir, federation, length, s.logger) : null;
}

/** Mixed into the seed of fedrep's head minibatches. */
const FEDREP_SEED = 0xfed4e9;

/**
 * FedRep's head step (Collins et al. 2021), on Consilium's residual head: from the head the site
 * kept (none at a federation's first round), the round's local steps on the fit share of its
 * training rows (the validation share stays unseen, for the closing choice) with the round's model
 * frozen, at headLearningRate with headL2 on the whole head, bias included, so that what every
 * site shares stays in the body instead of being split among the heads (where head and body are
 * fitted on the same rows, the heads at their joint optimum, weighted as the aggregate weighs the
 * sites, sum to zero). The body then trains with this head in place on the same fit share, and
 * without it on the validation share. Null unless the federation's personalization is `fedrep`.
 * Not kept yet: a refused update is retried from the same head (`keepFedrepHead`).
 */
export async function fedrepHead(s: SiteSession, task: TrainTask, base: Float32Array, train: Dataset): Promise<Float32Array | null> {
  if (task.training.personalization?.method !== "fedrep") return null;
  const t = task.training;
  // A federation's first round starts with no head: one kept under the same id is another run's.
  const kept = task.model.version === 0 ? null : await heldFedrepHead(s, task.federation ?? null, task.layout.headSize);
  const { fit } = dittoSplit(train, s.siteSeed);
  const opts = roundOptions(t, task.round, task.rounds, seededRandom((task.seed ^ s.siteSeed ^ FEDREP_SEED) >>> 0));
  return trainHead(task.layout, base, kept ?? new Float32Array(task.layout.headSize), fit, { ...opts, learningRate: t.headLearningRate ?? opts.learningRate, l2: t.headL2, l2Bias: true }).params;
}

/** Keeps the round's fedrep head, in memory and in the state folder, once the round's update has gone. */
export async function keepFedrepHead(s: SiteSession, task: TrainTask, head: Float32Array | null): Promise<void> {
  if (!head) return;
  const federation = task.federation ?? null;
  s.fedrepHead = { federation, head };
  if (s.stateDir) await saveFedrepHead(s.stateDir, federation, head);
}

/** The round's privacy plan against the site's ledger (from memory, else its state folder). */
async function planFor(s: SiteSession, task: TrainTask, privacy: PrivacyPolicy, rows: number): Promise<RoundPlan> {
  const saved = s.ledger ?? (s.stateDir ? await loadLedger(s.stateDir) : null);
  const opts = roundOptions(task.training, task.round, task.rounds, () => 0);
  const steps = privacy.level === "sample" ? (opts.steps ?? Math.ceil(rows / opts.batchSize) * opts.epochs) : 1;
  const q = privacy.level === "sample" ? Math.min(1, task.training.batchSize / rows) : 1;
  return planRound(saved, privacy, { federation: task.federation ?? null, rounds: task.rounds, q, steps, ...(s.privacyCap !== undefined && { cap: s.privacyCap }) });
}

async function keepLedger(s: SiteSession, ledger: PrivacyLedger): Promise<PrivacyLedger> {
  if (s.stateDir) await saveLedger(s.stateDir, ledger);
  s.ledger = ledger;
  return ledger;
}

async function decline(s: SiteSession, task: TrainTask, plan: RoundPlan): Promise<TrainOutcome> {
  const ledger = await keepLedger(s, { ...plan.ledger, refused: [...new Set([...plan.ledger.refused, task.round])].sort((a, b) => a - b) });
  const privacy = spentOf(ledger);
  const lifetime = ledger.lifetimeBudget ?? ledger.budget;
  const message =
    plan.after > ledger.budget * (1 + 1e-6)
      ? `training round ${task.round} would take this site to ε ${plan.after.toFixed(3)} at δ ${ledger.delta}, above its budget of ${ledger.budget}`
      : `training round ${task.round} would take this site to ε ${plan.lifetime.toFixed(3)} at δ ${ledger.delta} over all the consortium's runs, above its lifetime budget of ${lifetime}`;
  await s.client.declineRound({ round: task.round, code: "PRIVACY_BUDGET_EXHAUSTED", message, privacy });
  return { kind: "declined", message, privacy };
}
