import { ConsiliumError } from "../../core/errors.ts";
import type { SiteDecline, StoredDecline } from "../../core/schemas/privacy.ts";
import { RoundRecord } from "../../core/schemas/round.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { readJson, writeJson } from "../repo.ts";
import { loadFederation } from "./load-federation.ts";
import { queueIfReady } from "./queue-if-ready.ts";
import { stopIfAllDeclined } from "./stop-declined-round.ts";
import { recordRejection } from "./record-rejection.ts";
import { loadQuality } from "./quality.ts";
import { progressSecureRound } from "./secure/index.ts";

/**
 * A site refuses the open round because training it would exceed its privacy budget. The refusal
 * is kept (status, report) and logged like a rejection; the round goes on without the site and
 * closes as soon as every other site has sent its update; when every site refuses it, the run's
 * training stops (`stop-declined-round.ts`). Sending the same refusal again is harmless.
 */
export async function declineRound(deps: CoordinatorDeps, siteId: string, round: number, decline: SiteDecline): Promise<{ queued: boolean }> {
  if (decline.round !== round) throw new ConsiliumError("ROUND_MISMATCH", `decline is for round ${decline.round}, path says ${round}`, 400);
  const { config, state } = await loadFederation(deps);
  if (!config.privacy) throw new ConsiliumError("NO_PRIVACY_POLICY", `federation ${config.id} has no privacy policy to decline a round under`, 422);
  if ((await loadQuality(deps))?.excluded.includes(siteId)) {
    throw new ConsiliumError("SITE_EXCLUDED", `site ${siteId} was excluded by the federation's data-quality checks`, 403);
  }
  const record = state.phase === "training" ? await readJson(deps.store, keys.round(round), RoundRecord) : null;
  if (!record || record.status !== "open" || round !== state.round) throw new ConsiliumError("ROUND_CLOSED", `round ${round} is not open`, 409);
  if ((await deps.store.head(keys.updateManifest(round, siteId))) !== null || (await deps.store.head(keys.secureMessage(round, "masked-input", siteId))) !== null) {
    throw new ConsiliumError("DUPLICATE_UPDATE", `site ${siteId} already sent an update for round ${round}`, 409);
  }
  const stored: StoredDecline = { ...decline, siteId, receivedAt: deps.clock.now() };
  if (!(await writeJson(deps.store, keys.decline(round, siteId), stored, { ifAbsent: true }))) return { queued: false };
  await recordRejection(deps, { siteId, round, code: decline.code, message: decline.message });
  // A secure round's masked-input phase counts the refusal as the site's answer.
  if (config.secureAggregation) return { queued: (await progressSecureRound(deps, config, record)) === "queued" };
  if (await queueIfReady(deps, config, round)) return { queued: true };
  // The last site to refuse: the run's training stops (see stop-declined-round).
  return { queued: (await stopIfAllDeclined(deps, config, round)) === "aggregating" };
}
