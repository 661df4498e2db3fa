/**
 * @module
 * Lambda entry for the minute cron: closes rounds whose deadline has passed, re-queues rounds stuck
 * aggregating and finishes a phase transition that a crash left half done.
 */
import { closeExpiredRounds } from "../use-cases/close-expired-rounds.ts";
import { lambdaDeps } from "./resources.ts";

export const handler = async (): Promise<{ round: number; action: string }> => {
  const deps = lambdaDeps();
  try {
    return await closeExpiredRounds(deps);
  } catch (err) {
    // No federation yet is not a failure of the tick.
    if (err instanceof Error && "code" in err && err.code === "NO_FEDERATION") return { round: 0, action: "none" };
    throw err;
  }
};
