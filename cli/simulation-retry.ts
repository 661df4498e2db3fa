import type { RetryPolicy } from "../client/api.ts";

/**
 * How long a simulated runner (or relay) waits out its coordinator: the coordinator runs in the
 * same process, so an outage is not something to sit out for a hospital's 30 minutes.
 */
export const SIMULATION_RETRY: RetryPolicy = { patienceMs: 30_000, firstPauseMs: 100, maxPauseMs: 2_000 };
