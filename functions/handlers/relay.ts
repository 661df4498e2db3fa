/**
 * @module
 * Lambda entry of a regional stage's relay (regional tiers): each scheduled run takes relay steps
 * for up to 45 seconds, pausing while nothing can move. All its state is in the region's store and
 * the global coordinator, so runs may overlap or stop anywhere.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { CoordinatorClient } from "../../client/coordinator-client.ts";
import { relayStep, type RelayStep } from "../region-relay.ts";
import { jsonLogger, lambdaDeps, relayFromEnv } from "./resources.ts";

const BUDGET_MS = 45_000;
/** A global coordinator that cannot be reached is waited out, but never past the run's budget (the signal); the next scheduled run goes on. */
const UPSTREAM_RETRY = { patienceMs: 20_000, firstPauseMs: 250, maxPauseMs: 5_000 };
const PAUSE_MS = 2_000;

export const handler = async (): Promise<{ steps: number; last: RelayStep }> => {
  const { region, upstreamUrl, token } = relayFromEnv();
  const options = { region, deps: lambdaDeps(), global: new CoordinatorClient(upstreamUrl, token, fetch, { policy: UPSTREAM_RETRY, signal: AbortSignal.timeout(BUDGET_MS) }), logger: jsonLogger };
  const until = Date.now() + BUDGET_MS;
  let steps = 0;
  let last: RelayStep = "waiting";
  while (Date.now() < until && last !== "done") {
    last = await relayStep(options);
    steps++;
    if (last === "waiting") await sleep(PAUSE_MS);
  }
  return { steps, last };
};
