import { ShareKeys } from "../../../core/secagg/messages.ts";
import { advertsFor, graphOf, sharesFor, unmaskRequest } from "../../../core/secagg/index.ts";
import type { FederationConfig } from "../../../core/schemas/federation.ts";
import { RoundRecord } from "../../../core/schemas/round.ts";
import { IdentityRegistration, type SecurePhase, type SecureTrain } from "../../../core/schemas/secure-aggregation.ts";
import type { Task } from "../../../core/schemas/task.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { mustReadJson } from "../../repo.ts";
import { advanceSecure } from "./phases.ts";

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
