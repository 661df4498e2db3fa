import { ConsiliumError } from "../../core/errors.ts";
import { RoundRecord } from "../../core/schemas/round.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { readJson } from "../repo.ts";
import { fixIncluded } from "./fix-included.ts";

/**
 * Decides, once a site's manifest is written, whether the round will aggregate it: the round may
 * have stopped taking updates since the caller checked it was open. `open` means the aggregator
 * has not listed the manifests yet and will see this one; `included` means the round's fixed set
 * holds it. Otherwise the update is late: its manifest is removed, so that nothing counts it, and
 * the site is told with `ROUND_CLOSED`, which the app records as a rejection.
 */
export async function admitAfterWrite(deps: CoordinatorDeps, round: number, siteId: string): Promise<"open" | "included"> {
  // An asynchronous update may wait under a round not yet opened: its close will list it.
  const record = await readJson(deps.store, keys.round(round), RoundRecord);
  if (record === null || record.status === "open") return "open";
  // Only a round still aggregating may lack its set; a closed or skipped one without it included nothing.
  const included = record.included ?? (record.status === "aggregating" ? await fixIncluded(deps, round) : []);
  if (included.includes(siteId)) return "included";
  await deps.store.delete(keys.updateManifest(round, siteId));
  throw new ConsiliumError("ROUND_CLOSED", `round ${round} started aggregating before the update of site ${siteId} was recorded; it is not included`, 409);
}
