import { ConsiliumError } from "../../../core/errors.ts";
import { acceptAdvertisement, acceptMaskedInput, acceptShareKeys, acceptUnmasking, bytesPerValue, SecAggError, unmaskRequest, type IdentityDirectory } from "../../../core/secagg/index.ts";
import { RoundRecord } from "../../../core/schemas/round.ts";
import { ClosedPhase, type SecurePhase, type SecurePost } from "../../../core/schemas/secure-aggregation.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { readJson, writeJson } from "../../repo.ts";
import { completeUpload } from "../complete-upload.ts";
import { checkBaseCounts, loadFederation } from "../load-federation.ts";
import { secureSession } from "./session.ts";
import { readPhases, closeDuePhases } from "./phases.ts";
import { identityOf } from "./identity.ts";

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
  // A retry whose first answer was lost, perhaps after its message closed the phase, is accepted as it was.
  const counted = { advertise: phases.advertise, "share-keys": phases.shareKeys, "masked-input": phases.maskedInput, unmasking: phases.unmasking }[phase];
  if (counted?.sites.includes(site) && (await storedAs(deps, round, phase, siteId, post)) === "same") return { accepted: true };
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
    checkBaseCounts(config, post);
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
    if ((await storedAs(deps, round, phase, siteId, post)) !== "same") throw new ConsiliumError("DUPLICATE_MESSAGE", `site ${siteId} already posted another ${phase} message for round ${round}`, 409);
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

/** Whether the site's stored message of `phase` is `post` (a masked input: its manifest), another, or absent. */
async function storedAs(deps: CoordinatorDeps, round: number, phase: SecurePhase, siteId: string, post: SecurePost): Promise<"same" | "other" | "none"> {
  const bytes = await deps.store.get(keys.secureMessage(round, phase, siteId));
  if (bytes === null) return "none";
  const before = JSON.parse(new TextDecoder().decode(bytes)) as { manifest?: unknown };
  const same = post.kind === "masked-input" ? JSON.stringify(before.manifest) === JSON.stringify(post.manifest) : JSON.stringify(before) === JSON.stringify(post);
  return same ? "same" : "other";
}
