/**
 * @module
 * Lambda entry for the minute cron: closes rounds whose deadline has passed, re-queues rounds stuck
 * aggregating and finishes a phase transition that a crash left half done. A re-queued or skipped
 * round is also a CloudWatch metric (`RoundsRequeued`, `RoundsSkipped` in the `Consilium`
 * namespace, by stage), written as an embedded-metric-format log line that CloudWatch turns into
 * the metric: `infra/alarms.ts` alarms on them.
 */
import { closeExpiredRounds } from "../use-cases/close-expired-rounds.ts";
import { lambdaDeps } from "./resources.ts";

/** The embedded-metric-format line for one tick's action, or null when it is not one to count. */
export function tickMetric(action: string, round: number, stage: string, at: number): string | null {
  const metric = action === "requeued" ? "RoundsRequeued" : action === "skipped" ? "RoundsSkipped" : null;
  if (metric === null) return null;
  return JSON.stringify({
    _aws: { Timestamp: at, CloudWatchMetrics: [{ Namespace: "Consilium", Dimensions: [["Stage"]], Metrics: [{ Name: metric, Unit: "Count" }] }] },
    Stage: stage,
    [metric]: 1,
    round,
  });
}

/** The stage SST names the function's app with (`SST_RESOURCE_App`), or "local". */
function stageOf(env: NodeJS.ProcessEnv): string {
  try {
    const stage = (JSON.parse(env.SST_RESOURCE_App ?? "{}") as { stage?: unknown }).stage;
    return typeof stage === "string" && stage.length > 0 ? stage : "local";
  } catch {
    return "local";
  }
}

export const handler = async (): Promise<{ round: number; action: string }> => {
  const deps = lambdaDeps();
  try {
    const { round, action } = await closeExpiredRounds(deps);
    const metric = tickMetric(action, round, stageOf(process.env), deps.clock.now());
    // Straight to stdout: Lambda prefixes what goes through console, and CloudWatch reads a metric only from a line that is JSON whole.
    if (metric !== null) process.stdout.write(`${metric}\n`);
    return { round, action };
  } catch (err) {
    // No federation yet is not a failure of the tick.
    if (err instanceof Error && "code" in err && err.code === "NO_FEDERATION") return { round: 0, action: "none" };
    throw err;
  }
};
