import { ConsiliumError } from "../../../core/errors.ts";
import { AdvertiseKeys } from "../../../core/secagg/messages.ts";
import { graphOf, SecAggConfig } from "../../../core/secagg/index.ts";
import type { FederationConfig } from "../../../core/schemas/federation.ts";
import { RoundRecord } from "../../../core/schemas/round.ts";
import { ClosedPhase, SecureSession, type SecurePhase } from "../../../core/schemas/secure-aggregation.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { mustReadJson, readJson, writeJson } from "../../repo.ts";
import { beginAggregation } from "../begin-aggregation.ts";
import { advance } from "../open-round.ts";
import { recordRejection } from "../record-rejection.ts";
import { requestAggregation } from "../request-aggregation.ts";
import { secureSession, MIN_SECURE_SITES } from "./session.ts";
import { auditCoordinator } from "../audit/append-audit.ts";
import { summariseRound } from "../round-summary.ts";

/** The four phases' closing records, as far as they exist. */
export interface Phases {
  readonly advertise: ClosedPhase | null;
  readonly shareKeys: ClosedPhase | null;
  readonly maskedInput: ClosedPhase | null;
  readonly unmasking: ClosedPhase | null;
}

export async function readPhases(deps: CoordinatorDeps, round: number): Promise<Phases> {
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
export async function advanceSecure(deps: CoordinatorDeps, config: FederationConfig, record: RoundRecord): Promise<{ progress: SecureProgress; session?: SecureSession; phases?: Phases }> {
  if (record.status !== "open") return { progress: "done" };
  const session = await secureSession(deps, config, record);
  if (!session) {
    if (deps.clock.now() <= record.deadline) return { progress: "waiting" };
    return { progress: await failSecureRound(deps, config, record, `secure aggregation needs at least ${MIN_SECURE_SITES} sites with a registered identity and statistics; round ${record.round} had fewer by its deadline`) };
  }
  return { ...(await closeDuePhases(deps, config, record, session, await readPhases(deps, record.round))), session };
}

/** Closes the phases due from `start` on; answers what it did and the phases as it left them. */
export async function closeDuePhases(deps: CoordinatorDeps, config: FederationConfig, record: RoundRecord, session: SecureSession, start: Phases): Promise<{ progress: SecureProgress; phases: Phases }> {
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

  let closedHere = false;
  if (!phases.unmasking) {
    const sites = await posted(deps, r, "unmasking", session);
    const recoverable = canUnmask(session.config, shared, masked, sites);
    if (sites.length < masked.length && !recoverable && now <= phases.maskedInput!.closedAt + phaseMs) return done("waiting");
    phases = { ...phases, unmasking: await closePhase(deps, r, "unmasking", sites) };
    closedHere = true;
  }
  // The aggregate job alone marks the round `aggregating` (`markSecureAggregating`), so that no
  // caller holding an older copy of the round can write over a round the job has closed. The caller
  // that closed the unmasking phase queues the job; should it die before, any later caller that
  // finds the round still open a while after the phase closed queues it again (a duplicate is harmless).
  const current = await readJson(deps.store, keys.round(r), RoundRecord);
  if (current?.status !== "open") return done("done");
  if (closedHere || now > phases.unmasking!.closedAt + JOB_GRACE_MS) await requestAggregation(deps, config.id, r);
  return done("queued");
}

/** How long a secure round may stay open after its unmasking closed before a caller queues its job again. */
const JOB_GRACE_MS = 30_000;

/**
 * Moves a secure round whose unmasking phase closed to `aggregating`, with the sites whose masked
 * inputs it sums as its set and the phases' account; answers the record. Called by the aggregate
 * job only, on the record read again just before: a duplicate delivery finds it marked or closed.
 */
export async function markSecureAggregating(deps: CoordinatorDeps, stale: RoundRecord): Promise<RoundRecord> {
  if (stale.status !== "open") return stale;
  const record = (await readJson(deps.store, keys.round(stale.round), RoundRecord)) ?? stale;
  if (record.status !== "open") return record;
  const r = record.round;
  const session = await mustReadJson(deps.store, keys.secureSession(r), SecureSession, "CORRUPT_STATE", `secure session of round ${r}`);
  const phases = await readPhases(deps, r);
  if (!phases.maskedInput || !phases.unmasking) throw new ConsiliumError("CORRUPT_STATE", `round ${r} is to aggregate before its secure phases closed`, 500);
  const included = phases.maskedInput.sites.map((i) => session.participants[i - 1]!);
  const marked: RoundRecord = { ...record, status: "aggregating", aggregationStartedAt: deps.clock.now(), included, secure: secureSummary(session, phases) };
  await writeJson(deps.store, keys.round(r), marked);
  return marked;
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
    startedAt: session.createdAt,
    closedAt: {
      ...(phases.advertise && { advertise: phases.advertise.closedAt }),
      ...(phases.shareKeys && { shareKeys: phases.shareKeys.closedAt }),
      ...(phases.maskedInput && { maskedInput: phases.maskedInput.closedAt }),
      ...(phases.unmasking && { unmasking: phases.unmasking.closedAt }),
    },
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
  await auditCoordinator(deps, "round.skip", `round/${record.round}`, { reason, secure: true });
  // A region's next round is its relay's to open.
  if (!config.upstream) await advance(deps, config, record.round + 1, record.baseVersion);
  await summariseRound(deps, record.round);
  return "failed";
}
