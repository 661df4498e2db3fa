/**
 * @module
 * The site's side of secure aggregation (SecAgg+, `core/secagg`), one function per task: register
 * the identity, advertise the round's keys, share the secrets with the neighbours, mask the update
 * (from the training step), answer the unmasking. Each persists the round's protocol state before
 * the message that depends on it leaves the site.
 */
import { ConsiliumError } from "../../core/errors.ts";
import { seededSubset } from "../../core/codec/seeded-subset.ts";
import { advertiseKeys, maskUpdate, revealShares, secureCodes, shareKeys } from "../../core/secagg/index.ts";
import { fromHex, toHex } from "../../core/secagg/hex.ts";
import type { Identity } from "../../core/secagg/identity.ts";
import type { SiteState } from "../../core/secagg/site-state.ts";
import type { SecureTrain } from "../../core/schemas/secure-aggregation.ts";
import type { Task } from "../../core/schemas/task.ts";
import { dropSecureState, loadIdentity, loadSecureState, saveSecureState } from "./secure-keys.ts";
import type { SiteSession } from "../session/site-session.ts";

type TaskOf<K extends Task["kind"]> = Extract<Task, { kind: K }>;

/** The site's identity, loaded (or made) once. */
export async function siteIdentity(s: SiteSession): Promise<Identity> {
  s.identity ??= await loadIdentity(s.stateDir);
  return s.identity;
}

/** Registers the site's identity key with the coordinator. */
export async function registerStep(s: SiteSession): Promise<void> {
  try {
    await s.client.registerIdentity(toHex((await siteIdentity(s)).publicKey));
  } catch (err) {
    // Not a refused step to sit out: without its registered key the site can never sign a message the coordinator accepts.
    if (err instanceof ConsiliumError && err.code === "IDENTITY_MISMATCH") {
      throw new ConsiliumError("IDENTITY_MISMATCH", `the coordinator holds another identity key for this site: restore identity.pem in its state folder${s.stateDir ? ` (${s.stateDir})` : ""}, or enrol the site afresh`, 500);
    }
    throw err;
  }
}

/** Phase 0: the round's key pairs, signed; the state is kept before the advertisement leaves. */
export async function advertiseStep(s: SiteSession, task: TaskOf<"secure-advertise">): Promise<void> {
  const { state, message } = advertiseKeys(task.config, task.site, (await siteIdentity(s)).privateKey);
  await keep(s, state);
  await s.client.postSecure(task.round, message);
}

/** Phase 1: checks the neighbours' advertisements against their identities, and sends them its secrets' shares. */
export async function shareStep(s: SiteSession, task: TaskOf<"secure-share">): Promise<void> {
  const state = await stateOf(s, task.round, task.site);
  const identities = new Map(task.identities.map((i) => [i.site, fromHex(i.publicKey)]));
  const { state: next, message } = shareKeys(state, task.adverts, identities);
  await keep(s, next);
  await s.client.postSecure(task.round, message);
}

/**
 * Phase 2, from the training step: the codes of the update (clipped unless already clipped and
 * noised, scaled by the site's weight share, random-k's coordinates when the round keeps some,
 * rounded stochastically with draws from `node:crypto`),
 * masked with the shares the neighbours sent. The state holding those shares is kept first.
 */
export async function maskStep(s: SiteSession, round: number, secure: SecureTrain, update: Float32Array, noised: boolean) {
  const state = await stateOf(s, round, secure.site);
  const { quantisation } = secure.config;
  const kept = secure.randk && seededSubset(update.length, secure.randk.kept, secure.randk.seed);
  // Stochastic rounding from node:crypto: the coordinator knows the task's seeds.
  const codes = secureCodes(update, { spec: quantisation, ...(!noised && quantisation.clipNorm !== undefined && { clip: quantisation.clipNorm }), scale: secure.scale, ...(kept && { kept }) });
  const { state: next, masked, bytes, manifest } = maskUpdate(state, secure.shares, codes, (await siteIdentity(s)).privateKey);
  await keep(s, next);
  s.onMasked?.(round, codes, masked);
  return { bytes, manifest };
}

/**
 * Before training for a secure round: the site must hold the round's state, with its keys shared
 * and nothing masked yet; otherwise it sits the round out rather than train for nothing.
 */
export async function checkMaskable(s: SiteSession, round: number, secure: SecureTrain): Promise<void> {
  const state = await stateOf(s, round, secure.site);
  if (state.phase !== "shared") {
    throw new ConsiliumError("SECURE_STATE_LOST", `this site already masked its input for round ${round} (its post was lost); it sits the round out`, 409);
  }
}

/** Phase 3: reveals what the coordinator asks (never both shares of a peer), the record kept first. */
export async function unmaskStep(s: SiteSession, task: TaskOf<"secure-unmask">): Promise<void> {
  const state = await stateOf(s, task.round, task.request.site);
  const { state: next, message } = revealShares(state, task.request, (await siteIdentity(s)).privateKey);
  await keep(s, next);
  await s.client.postSecure(task.round, message);
}

/** Forgets the secrets of rounds before `round` (all of them without it) once the federation has moved past them. */
export async function forgetRound(s: SiteSession, round = Number.POSITIVE_INFINITY): Promise<void> {
  if (s.secure && s.secure.config.round >= round) return;
  s.secure = null;
  await dropSecureState(s.stateDir);
}

async function keep(s: SiteSession, state: SiteState): Promise<void> {
  await saveSecureState(s.stateDir, state);
  s.secure = state;
}

async function stateOf(s: SiteSession, round: number, site: number): Promise<SiteState> {
  const state = s.secure?.config.round === round ? s.secure : await loadSecureState(s.stateDir, round);
  if (!state || state.site !== site) {
    throw new ConsiliumError("SECURE_STATE_LOST", `this site holds no secure-aggregation state for round ${round} (site ${site}); it sits the round out`, 409);
  }
  return state;
}
