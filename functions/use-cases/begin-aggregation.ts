import type { RoundRecord } from "../../core/schemas/round.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { writeJson } from "../repo.ts";
import { fixIncluded } from "./fix-included.ts";

/**
 * Stops a round taking updates, then fixes its update set. The two steps are separate writes on
 * purpose: `open` must be gone from the round before anyone lists its manifests (see
 * `fixIncluded`). Safe to repeat after a crash between them.
 */
export async function beginAggregation(deps: CoordinatorDeps, round: RoundRecord): Promise<RoundRecord & { included: string[] }> {
  let r = round;
  if (r.status === "open") {
    r = { ...r, status: "aggregating", aggregationStartedAt: deps.clock.now() };
    await writeJson(deps.store, keys.round(r.round), r);
  }
  if (r.included) return { ...r, included: r.included };
  const included = await fixIncluded(deps, r.round);
  const fixed = { ...r, included };
  await writeJson(deps.store, keys.round(r.round), fixed);
  return fixed;
}
