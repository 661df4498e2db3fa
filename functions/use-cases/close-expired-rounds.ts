import { RoundRecord } from "../../core/schemas/round.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { readJson, writeJson } from "../repo.ts";
import { loadFederation } from "./load-federation.ts";
import { advance } from "./open-round.ts";
import { requestAggregation } from "./request-aggregation.ts";

/**
 * The cron tick: a round past its deadline is aggregated with the updates it has, or skipped
 * (training goes on from the same model) when none arrived.
 */
export async function closeExpiredRounds(deps: CoordinatorDeps): Promise<{ round: number; action: "none" | "queued" | "skipped" }> {
  const { config, state } = await loadFederation(deps);
  const none = { round: state.round, action: "none" as const };
  if (state.phase !== "training") return none;
  const round = await readJson(deps.store, keys.round(state.round), RoundRecord);
  // A close (here or in the aggregator) that died before opening the next round is finished on the next tick.
  if (round && (round.status === "closed" || round.status === "skipped")) {
    await advance(deps, config, round.round + 1, round.resultVersion ?? round.baseVersion);
    return none;
  }
  if (!round || round.status !== "open" || deps.clock.now() <= round.deadline) return none;
  const received = (await deps.store.list(keys.updatesPrefix(round.round))).filter((k) => k.endsWith(".json")).length;
  if (received > 0) {
    await requestAggregation(deps, config.id, round.round);
    return { round: round.round, action: "queued" };
  }
  await writeJson(deps.store, keys.round(round.round), { ...round, status: "skipped", reason: "deadline passed with no updates", closedAt: deps.clock.now() } satisfies RoundRecord);
  await advance(deps, config, round.round + 1, round.baseVersion);
  return { round: round.round, action: "skipped" };
}
