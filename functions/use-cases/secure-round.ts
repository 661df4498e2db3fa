/**
 * @module
 * Secure aggregation in the coordinator (SecAgg+, `core/secagg`): one round's session, the four
 * phases driven through the task API and stored under `rounds/{r}/secure/`, and their closing.
 * A phase closes, write-once, when every site it waits for has posted, or at its deadline; the
 * unmasking phase also as soon as every secret it must rebuild has its threshold of shares. The
 * coordinator relays keys and encrypted shares and keeps only masked inputs: the sum it unmasks
 * in the aggregate job is the only update it ever sees.
 */
import { randomBytes } from "node:crypto";
import { sharedSeed } from "../../core/codec/index.ts";
import { keptCount } from "../../core/codec/kept-count.ts";
import { ConsiliumError } from "../../core/errors.ts";
import { AdvertiseKeys, MaskedInputManifest, ShareKeys, UnmaskingShares } from "../../core/secagg/messages.ts";
import {
  acceptAdvertisement,
  acceptMaskedInput,
  acceptShareKeys,
  acceptUnmasking,
  advertsFor,
  bytesPerValue,
  graphOf,
  neighbourhoodParameters,
  SecAggConfig,
  SecAggError,
  sharesFor,
  unmaskRequest,
  type IdentityDirectory,
} from "../../core/secagg/index.ts";
import { fromHex } from "../../core/secagg/hex.ts";
import type { FederationConfig } from "../../core/schemas/federation.ts";
import { Preprocessing } from "../../core/schemas/preprocessing.ts";
import { RoundRecord } from "../../core/schemas/round.ts";
import { ClosedPhase, IdentityRegistration, MaskedInputPost, SecureSession, type SecurePhase, type SecurePost, type SecureTrain } from "../../core/schemas/secure-aggregation.ts";
import { SiteStats } from "../../core/schemas/site-stats.ts";
import { taskSeed } from "../../core/schemas/task-seed.ts";
import type { Task } from "../../core/schemas/task.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { mustReadJson, readJson, writeJson } from "../repo.ts";
import { beginAggregation } from "./begin-aggregation.ts";
import { completeUpload } from "./complete-upload.ts";
import { loadFederation } from "./load-federation.ts";
import { advance } from "./open-round.ts";
import { loadQuality } from "./quality.ts";
import { recordRejection } from "./record-rejection.ts";
import { requestAggregation } from "./request-aggregation.ts";
import { updateShape } from "./update-shape.ts";

/** Fewest sites a secure round runs with: the sum of two would give each the other's update. */
export const MIN_SECURE_SITES = 3;

/** Per-coordinate range of the codes under client-level privacy, in clips: the noise is added before quantising, so no L2 clip applies. */
const NOISY_RANGE_CLIPS = 64;

/** A site's registered identity key, or null. */
export async function identityOf(deps: CoordinatorDeps, siteId: string): Promise<Uint8Array | null> {
  const stored = await readJson(deps.store, keys.identity(siteId), IdentityRegistration);
  return stored && fromHex(stored.publicKey);
}

/**
 * `POST /v1/identity`: registers a site's long-term Ed25519 public key, once. The same key again is
 * accepted; another key is refused (a runner that lost its key must be enrolled afresh).
 */
export async function registerIdentity(deps: CoordinatorDeps, siteId: string, registration: IdentityRegistration): Promise<{ registered: boolean }> {
  if (await writeJson(deps.store, keys.identity(siteId), registration, { ifAbsent: true })) return { registered: true };
  const stored = await readJson(deps.store, keys.identity(siteId), IdentityRegistration);
  if (stored?.publicKey !== registration.publicKey) {
    throw new ConsiliumError("IDENTITY_MISMATCH", `site ${siteId} registered another identity key; a site keeps one key for the federation`, 409);
  }
  return { registered: false };
}

/**
 * The round's session, created by the first caller that needs it: the sites with a registered
 * identity and reported statistics that the data-quality checks kept, sorted by id; the neighbour
 * graph for their number (`neighbourhoodParameters` with the policy's targets); a fresh round seed;
 * the quantisation (L2 clip, or a wide range under client-level privacy, whose noise is added
 * first); the sites' public weights. `null` while fewer than three sites can take part.
 */
export async function secureSession(deps: CoordinatorDeps, config: FederationConfig, record: RoundRecord): Promise<SecureSession | null> {
  const existing = await readJson(deps.store, keys.secureSession(record.round), SecureSession);
  if (existing) return existing;
  const policy = config.secureAggregation!;
  const excluded = new Set((await loadQuality(deps))?.excluded ?? []);
  const registered = (await deps.store.list(keys.identitiesPrefix)).map((k) => k.slice(keys.identitiesPrefix.length, -".json".length)).filter((id) => !excluded.has(id));
  const candidates: { id: string; rows: number }[] = [];
  for (const id of registered.sort()) {
    const stats = await readJson(deps.store, keys.stats(id), SiteStats);
    if (stats) candidates.push({ id, rows: Math.max(1, stats.rows) });
  }
  const n = candidates.length;
  if (n < MIN_SECURE_SITES) return null;
  const prep = await mustReadJson(deps.store, keys.preprocessing, Preprocessing, "NO_PREPROCESSING", "preprocessing");
  const shape = updateShape(config, prep);
  const { neighbours, threshold } = neighbourhoodParameters(n, policy.targets);
  const dp = config.privacy?.level === "client";
  const clip = dp ? config.privacy!.clip : policy.clip;
  const dropout = policy.targets?.dropout ?? 0.3;
  // A survivor's self-mask seed is rebuilt from t answers of its surviving neighbours; under
  // client-level privacy the noise shares must add up to the full noise.
  const noiseShares = dp ? Math.max(threshold + 1, Math.ceil((1 - dropout) * n)) : undefined;
  const minSummands = Math.max(threshold + 1, noiseShares ?? 2);
  const randk = shape.codec.name === "randk-int8" ? randkOf(shape.length, shape.codec.fraction ?? 1, sharedSeed(taskSeed(config.seed, record.round))) : undefined;
  const now = deps.clock.now();
  const session: SecureSession = {
    config: SecAggConfig.parse({
      round: record.round,
      roundSeed: randomBytes(32).toString("hex"),
      sites: n,
      neighbours,
      threshold,
      length: randk?.kept ?? shape.length,
      quantisation: {
        ...(dp ? { range: NOISY_RANGE_CLIPS * clip } : { clipNorm: clip, ...(policy.range !== undefined && { range: policy.range }) }),
        maxSummands: n,
        rounding: "stochastic",
        bits: ringBits(policy, n, dp),
      },
    }),
    participants: candidates.map((c) => c.id),
    // Client-level privacy weighs sites equally (its noise is calibrated to equally weighted, clipped updates).
    weights: candidates.map((c) => (dp ? 1 : c.rows)),
    rows: candidates.map((c) => c.rows),
    minSummands,
    ...(noiseShares !== undefined && { noiseShares }),
    ...(randk && { randk }),
    createdAt: now,
    advertiseBy: now + policy.phaseSeconds * 1000,
  };
  await writeJson(deps.store, keys.secureSession(record.round), session, { ifAbsent: true });
  // Whoever wrote first fixed the session.
  const stored = await mustReadJson(deps.store, keys.secureSession(record.round), SecureSession, "NO_SESSION", `secure session of round ${record.round}`);
  deps.logger.info("secure round opened", { round: record.round, sites: n, neighbours, threshold });
  return stored;
}

/** Most sites a 16-bit ring takes: each site's codes keep at least 127 steps either side of zero. */
export const MAX_SITES_16_BIT = Math.floor((2 ** 15 - 1) / 127);

/**
 * The ring a round masks in: the policy's, but Z_2^32 for rounds of more than `MAX_SITES_16_BIT`
 * sites and under client-level privacy, whose noise (64 clips wide) would leave 16 bits too few
 * steps. Whatever the codec: its per-site scales cannot be summed under masks, so the shared
 * fixed point replaces them.
 */
export function ringBits(policy: { readonly bits?: 16 | 32 }, sites: number, noised: boolean): 16 | 32 {
  return policy.bits === 16 && sites <= MAX_SITES_16_BIT && !noised ? 16 : 32;
}

function randkOf(length: number, fraction: number, seed: number): SecureSession["randk"] {
  const kept = keptCount(fraction, length);
  return { seed, kept, gain: length / kept };
}

/** The four phases' closing records, as far as they exist. */
interface Phases {
  readonly advertise: ClosedPhase | null;
  readonly shareKeys: ClosedPhase | null;
  readonly maskedInput: ClosedPhase | null;
  readonly unmasking: ClosedPhase | null;
}

async function readPhases(deps: CoordinatorDeps, round: number): Promise<Phases> {
  const read = (phase: SecurePhase) => readJson(deps.store, keys.securePhase(round, phase), ClosedPhase);
  const [advertise, shareKeys, maskedInput, unmasking] = await Promise.all([read("advertise"), read("share-keys"), read("masked-input"), read("unmasking")]);
  return { advertise, shareKeys, maskedInput, unmasking };
}

/** The protocol indices of the sites that posted in a phase. */
async function posted(deps: CoordinatorDeps, round: number, phase: SecurePhase, session: SecureSession): Promise<number[]> {
  const prefix = keys.secureMessages(round, phase);
  const ids = (await deps.store.list(prefix)).filter((k) => k.endsWith(".json")).map((k) => k.slice(prefix.length, -".json".length));
  return ids.map((id) => session.participants.indexOf(id) + 1).filter((i) => i > 0).sort((a, b) => a - b);
}

async function closePhase(deps: CoordinatorDeps, round: number, phase: SecurePhase, sites: number[], adverts?: AdvertiseKeys[]): Promise<ClosedPhase> {
  const record: ClosedPhase = { phase, sites, closedAt: deps.clock.now(), ...(adverts && { adverts }) };
  await writeJson(deps.store, keys.securePhase(round, phase), record, { ifAbsent: true });
  return mustReadJson(deps.store, keys.securePhase(round, phase), ClosedPhase, "CORRUPT_STATE", `${phase} phase of round ${round}`);
}

/** What `progressSecureRound` did. */
export type SecureProgress = "waiting" | "queued" | "failed" | "done";

/**
 * Closes every phase of the round whose time has come, in order, and, once the unmasking phase
 * closes, starts the aggregation with the sites whose masked inputs it sums. A phase that leaves
 * fewer sites than the round must sum fails the round cleanly: it is skipped with the reason, and
 * training goes on from the same model. Safe to call from any poll, post or cron tick.
 */
export async function progressSecureRound(deps: CoordinatorDeps, config: FederationConfig, record: RoundRecord): Promise<SecureProgress> {
  return (await advanceSecure(deps, config, record)).progress;
}

/** `progressSecureRound`, answering also the session and the phases as it left them (for the caller to go on from). */
async function advanceSecure(deps: CoordinatorDeps, config: FederationConfig, record: RoundRecord): Promise<{ progress: SecureProgress; session?: SecureSession; phases?: Phases }> {
  if (record.status !== "open") return { progress: "done" };
  const session = await secureSession(deps, config, record);
  if (!session) {
    if (deps.clock.now() <= record.deadline) return { progress: "waiting" };
    return { progress: await failSecureRound(deps, config, record, `secure aggregation needs at least ${MIN_SECURE_SITES} sites with a registered identity and statistics; round ${record.round} had fewer by its deadline`) };
  }
  return { ...(await closeDuePhases(deps, config, record, session, await readPhases(deps, record.round))), session };
}

/** Closes the phases due from `start` on; answers what it did and the phases as it left them. */
async function closeDuePhases(deps: CoordinatorDeps, config: FederationConfig, record: RoundRecord, session: SecureSession, start: Phases): Promise<{ progress: SecureProgress; phases: Phases }> {
  const r = record.round;
  const phaseMs = config.secureAggregation!.phaseSeconds * 1000;
  const now = deps.clock.now();
  const n = session.participants.length;
  let phases = start;
  const done = async (progress: SecureProgress | Promise<SecureProgress>) => ({ progress: await progress, phases });
  const tooFew = (phase: string, sites: readonly number[]) =>
    failSecureRound(deps, config, record, `secure aggregation: only ${sites.length} of ${n} sites ${phase}; the round needs ${session.minSummands} to unmask the sum${session.noiseShares ? " with its full noise" : ""} without exposing any site`);

  if (!phases.advertise) {
    const sites = await posted(deps, r, "advertise", session);
    if (sites.length < n && now <= session.advertiseBy) return done("waiting");
    // An advertisement withdrawn meanwhile (its post lost a race with an earlier close) is left out.
    const read = await Promise.all(sites.map((i) => readJson(deps.store, keys.secureMessage(r, "advertise", session.participants[i - 1]!), AdvertiseKeys)));
    const adverts = read.filter((a): a is AdvertiseKeys => a !== null);
    phases = { ...phases, advertise: await closePhase(deps, r, "advertise", adverts.map((a) => a.site), adverts) };
  }
  if (phases.advertise!.sites.length < session.minSummands) return done(tooFew("advertised keys", phases.advertise!.sites));

  if (!phases.shareKeys) {
    const sites = await posted(deps, r, "share-keys", session);
    if (sites.length < phases.advertise!.sites.length && now <= phases.advertise!.closedAt + phaseMs) return done("waiting");
    phases = { ...phases, shareKeys: await closePhase(deps, r, "share-keys", sites) };
  }
  const shared = phases.shareKeys!.sites;
  if (shared.length < session.minSummands) return done(tooFew("shared keys", shared));

  if (!phases.maskedInput) {
    const sites = await posted(deps, r, "masked-input", session);
    const declined = new Set((await deps.store.list(keys.declinesPrefix(r))).map((k) => session.participants.indexOf(k.slice(keys.declinesPrefix(r).length, -".json".length)) + 1));
    const waiting = shared.filter((i) => !sites.includes(i) && !declined.has(i)).length;
    // A quorum closes the phase early only once the round can be unmasked with what arrived.
    const quorum = config.quorum !== undefined && sites.length >= Math.max(config.quorum, session.minSummands);
    if (waiting > 0 && !quorum && now <= record.deadline) return done("waiting");
    phases = { ...phases, maskedInput: await closePhase(deps, r, "masked-input", sites) };
  }
  const masked = phases.maskedInput!.sites;
  if (masked.length < session.minSummands) return done(tooFew("sent masked inputs", masked));

  if (!phases.unmasking) {
    const sites = await posted(deps, r, "unmasking", session);
    const recoverable = canUnmask(session.config, shared, masked, sites);
    if (sites.length < masked.length && !recoverable && now <= phases.maskedInput!.closedAt + phaseMs) return done("waiting");
    phases = { ...phases, unmasking: await closePhase(deps, r, "unmasking", sites) };
  }
  const included = masked.map((i) => session.participants[i - 1]!);
  // Read again: the caller's copy may be stale, and a round another caller already moved on must stay where it is.
  const current = await readJson(deps.store, keys.round(r), RoundRecord);
  if (current?.status !== "open") return done("done");
  await writeJson(deps.store, keys.round(r), { ...current, status: "aggregating", aggregationStartedAt: now, included, secure: secureSummary(session, phases) } satisfies RoundRecord);
  await requestAggregation(deps, config.id, r);
  return done("queued");
}

/** The round record's account of a secure round. */
export function secureSummary(session: SecureSession, phases: Phases): NonNullable<RoundRecord["secure"]> {
  return {
    participants: session.participants.length,
    neighbours: session.config.neighbours,
    threshold: session.config.threshold,
    advertised: phases.advertise?.sites.length ?? 0,
    shared: phases.shareKeys?.sites.length ?? 0,
    masked: phases.maskedInput?.sites.length ?? 0,
    unmasked: phases.unmasking?.sites.length ?? 0,
  };
}

/**
 * Whether the answers of `answered` rebuild every secret the unmasking needs: each survivor's
 * self-mask seed and the mask key of each site that shared keys but sent no masked input, each
 * from t of its neighbours (every answering site reveals its share of every such neighbour).
 */
export function canUnmask(config: SecAggConfig, shared: readonly number[], masked: readonly number[], answered: readonly number[]): boolean {
  const graph = graphOf(config);
  const answers = new Set(answered);
  const survivors = new Set(masked);
  const enough = (site: number) => graph.get(site)!.filter((j) => answers.has(j)).length >= config.threshold;
  for (const site of masked) if (!enough(site)) return false;
  for (const site of shared) {
    if (survivors.has(site)) continue;
    if (graph.get(site)!.some((j) => survivors.has(j)) && !enough(site)) return false;
  }
  return true;
}

async function failSecureRound(deps: CoordinatorDeps, config: FederationConfig, stale: RoundRecord, reason: string): Promise<SecureProgress> {
  const record = await readJson(deps.store, keys.round(stale.round), RoundRecord);
  if (record?.status !== "open") return "failed";
  const session = await readJson(deps.store, keys.secureSession(record.round), SecureSession);
  const phases = await readPhases(deps, record.round);
  const closing = await beginAggregation(deps, record);
  await writeJson(deps.store, keys.round(record.round), { ...closing, included: [], status: "skipped", reason, closedAt: deps.clock.now(), ...(session && { secure: secureSummary(session, phases) }) } satisfies RoundRecord);
  await recordRejection(deps, { siteId: null, round: record.round, code: "SECURE_ROUND_FAILED", message: reason });
  deps.logger.warn("secure round failed", { round: record.round, reason });
  // A region's next round is its relay's to open.
  if (!config.upstream) await advance(deps, config, record.round + 1, record.baseVersion);
  return "failed";
}

/** What a site of a secure round should do now: a task, or `mask` with the masking instructions of its training task. */
export type SecureStep = Task | { readonly kind: "mask"; readonly secure: SecureTrain };

/** The site's next step in the open secure round (after closing whatever phase is due). */
export async function secureStep(deps: CoordinatorDeps, config: FederationConfig, record: RoundRecord, siteId: string): Promise<SecureStep> {
  const wait = (reason: string): Task => ({ kind: "wait", retryAfterMs: deps.pollMs ?? 1000, reason });
  const { progress, session, phases } = await advanceSecure(deps, config, record);
  if (progress !== "waiting") return wait(`round ${record.round} ${progress === "failed" ? "failed" : "is aggregating"}`);
  if (!session || !phases) return wait(`secure aggregation needs at least 3 sites with registered identities and statistics; round ${record.round} waits for them`);
  const r = record.round;
  const site = session.participants.indexOf(siteId) + 1;
  if (site === 0) return wait(`site ${siteId} is not among the ${session.participants.length} sites of round ${r}'s secure aggregation`);
  const has = async (phase: SecurePhase) => (await deps.store.head(keys.secureMessage(r, phase, siteId))) !== null;
  if (!phases.advertise) return (await has("advertise")) ? wait("waiting for the other sites' keys") : { kind: "secure-advertise", round: r, config: session.config, site };
  if (!phases.advertise.sites.includes(site)) return wait(`site ${siteId} advertised no keys in time for round ${r}`);
  if (!phases.shareKeys) {
    if (await has("share-keys")) return wait("waiting for the other sites' shares");
    const adverts = advertsFor(session.config, phases.advertise.adverts ?? [], site);
    const identities = [];
    for (const a of adverts) {
      const key = await mustReadJson(deps.store, keys.identity(session.participants[a.site - 1]!), IdentityRegistration, "CORRUPT_STATE", `identity of site ${a.site}`);
      identities.push({ site: a.site, publicKey: key.publicKey });
    }
    return { kind: "secure-share", round: r, site, adverts, identities };
  }
  if (!phases.shareKeys.sites.includes(site)) return wait(`site ${siteId} shared no keys in time for round ${r}`);
  if (!phases.maskedInput) {
    if ((await has("masked-input")) || (await deps.store.head(keys.decline(r, siteId))) !== null) return wait(`masked input for round ${r} received`);
    const messages = await Promise.all(
      graphOf(session.config)
        .get(site)!
        .filter((j) => phases.shareKeys!.sites.includes(j))
        .map((j) => mustReadJson(deps.store, keys.secureMessage(r, "share-keys", session.participants[j - 1]!), ShareKeys, "CORRUPT_STATE", `shares of site ${j}`)),
    );
    const max = Math.max(...session.weights);
    return {
      kind: "mask",
      secure: {
        config: session.config,
        site,
        shares: sharesFor(messages, site),
        scale: session.weights[site - 1]! / max,
        ...(session.noiseShares !== undefined && { noiseShares: session.noiseShares }),
        ...(session.randk && { randk: session.randk }),
      },
    };
  }
  if (!phases.maskedInput.sites.includes(site)) return wait(`site ${siteId} sent no masked input in time for round ${r}`);
  if (!phases.unmasking && !(await has("unmasking"))) {
    return { kind: "secure-unmask", round: r, request: unmaskRequest(session.config, site, phases.shareKeys.sites, phases.maskedInput.sites) };
  }
  return wait(`round ${r} is unmasking`);
}

const PHASE_OF: Record<SecurePost["kind"], SecurePhase> = { "advertise-keys": "advertise", "share-keys": "share-keys", "masked-input": "masked-input", unmasking: "unmasking" };

/**
 * `POST /v1/rounds/:round/secure`: one site's message for the open phase of a secure round,
 * checked (`core/secagg` coordinator checks: signature under the site's registered identity,
 * session, routing, the masked input's bytes against its manifest) and kept write-once. A message
 * for a phase that closed meanwhile is refused and removed, so that nothing counts it.
 */
export async function submitSecure(deps: CoordinatorDeps, siteId: string, round: number, post: SecurePost): Promise<{ accepted: true }> {
  const { config, state } = await loadFederation(deps);
  if (!config.secureAggregation) throw new ConsiliumError("NOT_SECURE", `federation ${config.id} does not run secure aggregation`, 409);
  const record = state.phase === "training" ? await readJson(deps.store, keys.round(round), RoundRecord) : null;
  if (!record || record.status !== "open" || round !== state.round) throw new ConsiliumError("ROUND_CLOSED", `round ${round} is not open`, 409);
  // Phases past their deadline are closed by the polls and the cron, not here: a late message meets the closed record or is removed below.
  const session = await secureSession(deps, config, record);
  if (!session) throw new ConsiliumError("ROUND_CLOSED", `round ${round} has no secure session yet`, 409);
  const site = session.participants.indexOf(siteId) + 1;
  if (site === 0) throw new ConsiliumError("NOT_A_PARTICIPANT", `site ${siteId} is not a participant of round ${round}'s secure aggregation`, 403);
  const message = post.kind === "masked-input" ? post.manifest : post;
  if (message.site !== site || message.round !== round) throw new SecAggError("SECAGG_BAD_MESSAGE", `a message of site ${siteId} (index ${site}) names site ${message.site}, round ${message.round}`);
  const phase = PHASE_OF[post.kind];
  const [phases, identity] = await Promise.all([readPhases(deps, round), identityOf(deps, siteId)]);
  const closed = (p: ClosedPhase | null) => {
    if (p) throw new ConsiliumError("PHASE_CLOSED", `the ${p.phase} phase of round ${round} closed at ${new Date(p.closedAt).toISOString()}`, 409);
  };
  const admitted = (p: ClosedPhase | null, what: string): ClosedPhase => {
    if (!p) throw new ConsiliumError("PHASE_NOT_OPEN", `round ${round} is not yet at the ${phase} phase`, 409);
    if (!p.sites.includes(site)) throw new ConsiliumError("NOT_A_PARTICIPANT", `site ${siteId} ${what} in round ${round}, so it takes no part in the ${phase} phase`, 409);
    return p;
  };
  const directory: IdentityDirectory = new Map([[site, identity ?? new Uint8Array()]]);
  let stored: unknown = post;
  if (post.kind === "advertise-keys") {
    closed(phases.advertise);
    acceptAdvertisement(session.config, post, directory);
  } else if (post.kind === "share-keys") {
    closed(phases.shareKeys);
    acceptShareKeys(session.config, post, admitted(phases.advertise, "advertised no keys").sites);
  } else if (post.kind === "masked-input") {
    closed(phases.maskedInput);
    const shared = admitted(phases.shareKeys, "shared no keys").sites;
    if (deps.clock.now() > record.deadline) {
      throw new ConsiliumError("DEADLINE_PASSED", `round ${round} stopped taking masked inputs at its deadline, ${new Date(record.deadline).toISOString()}`, 409);
    }
    if ((await deps.store.head(keys.decline(round, siteId))) !== null) throw new ConsiliumError("ROUND_DECLINED", `site ${siteId} declined round ${round} (its privacy budget)`, 409);
    const byteLength = bytesPerValue(session.config.quantisation.bits) * session.config.length;
    await completeUpload(deps, keys.maskedBin(round, siteId), byteLength, post);
    const bytes = await deps.store.get(keys.maskedBin(round, siteId));
    if (bytes === null) throw new ConsiliumError("MISSING_UPDATE", `no masked input uploaded for site ${siteId} in round ${round}`, 422);
    acceptMaskedInput(session.config, post.manifest, directory, shared, bytes);
    await deps.store.put(keys.acceptedBin(round, siteId, post.manifest.sha256), bytes, { ifAbsent: true, contentType: "application/octet-stream" });
    const { uploadId: _uploadId, parts: _parts, ...kept } = post;
    stored = { ...kept, receivedAt: deps.clock.now() };
  } else {
    closed(phases.unmasking);
    const masked = admitted(phases.maskedInput, "sent no masked input").sites;
    acceptUnmasking(session.config, post, directory, unmaskRequest(session.config, site, phases.shareKeys!.sites, masked));
  }
  if (!(await writeJson(deps.store, keys.secureMessage(round, phase, siteId), stored, { ifAbsent: true }))) {
    // The same message again (a retry whose first answer was lost) is accepted; another is not.
    const bytes = await deps.store.get(keys.secureMessage(round, phase, siteId));
    const before = bytes && (JSON.parse(new TextDecoder().decode(bytes)) as { manifest?: unknown });
    const same = post.kind === "masked-input" ? JSON.stringify(before?.manifest) === JSON.stringify(post.manifest) : JSON.stringify(before) === JSON.stringify(stored);
    if (!same) throw new ConsiliumError("DUPLICATE_MESSAGE", `site ${siteId} already posted another ${phase} message for round ${round}`, 409);
    return { accepted: true };
  }
  // The phase may have closed between the check above and the write: then the message does not count.
  // (A closer that listed the messages just before this write and wrote its record just after this
  // read leaves the message stored but uncounted: the site sits the phase out. A masked input so
  // left out stays hidden by its self-mask, whose seed is never revealed for a site outside the sum.)
  const after = await readJson(deps.store, keys.securePhase(round, phase), ClosedPhase);
  if (after && !after.sites.includes(site)) {
    await deps.store.delete(keys.secureMessage(round, phase, siteId));
    closed(after);
  }
  // Only this message's phase can have become complete; the others are as read above.
  await closeDuePhases(deps, config, record, session, phases);
  return { accepted: true };
}

/** What the aggregate job reads of a closed secure round. */
export interface SecureInputs {
  readonly session: SecureSession;
  readonly adverts: AdvertiseKeys[];
  readonly shared: number[];
  readonly posts: { readonly siteId: string; readonly post: MaskedInputPost }[];
  readonly reveals: UnmaskingShares[];
  readonly directory: IdentityDirectory;
}

/** Reads the closed phases of a secure round and the messages they accepted. */
export async function readSecureInputs(deps: CoordinatorDeps, round: number): Promise<SecureInputs> {
  const session = await mustReadJson(deps.store, keys.secureSession(round), SecureSession, "CORRUPT_STATE", `secure session of round ${round}`);
  const phases = await readPhases(deps, round);
  if (!phases.advertise || !phases.shareKeys || !phases.maskedInput || !phases.unmasking) {
    throw new ConsiliumError("CORRUPT_STATE", `round ${round} is aggregating before its secure phases closed`, 500);
  }
  const id = (i: number) => session.participants[i - 1]!;
  const what = (phase: SecurePhase, i: number) => `${phase} message of site ${i}`;
  const posts = [];
  const directory = new Map<number, Uint8Array>();
  for (const i of phases.maskedInput.sites) {
    posts.push({ siteId: id(i), post: await mustReadJson(deps.store, keys.secureMessage(round, "masked-input", id(i)), MaskedInputPost, "CORRUPT_STATE", what("masked-input", i)) });
    directory.set(i, (await identityOf(deps, id(i))) ?? new Uint8Array());
  }
  const reveals = [];
  for (const i of phases.unmasking.sites) reveals.push(await mustReadJson(deps.store, keys.secureMessage(round, "unmasking", id(i)), UnmaskingShares, "CORRUPT_STATE", what("unmasking", i)));
  return { session, adverts: phases.advertise.adverts ?? [], shared: phases.shareKeys.sites, posts, reveals, directory };
}

/** Every manifest in a secure round's inputs, for `unmaskSum`. */
export function manifestsOf(inputs: SecureInputs): MaskedInputManifest[] {
  return inputs.posts.map((p) => p.post.manifest);
}
