import { ConsiliumError } from "../core/errors.ts";
import { Job } from "../core/schemas/round.ts";
import type { CoordinatorDeps } from "./deps.ts";
import { activeRunDeps, scopeToRun } from "./use-cases/runs/run-scope.ts";
import { aggregateRound, type AggregateOutcome } from "./use-cases/aggregate/aggregate-round.ts";

/**
 * Runs one queue message. A message that is not a valid job throws `INVALID_JOB`, so that the
 * queue keeps it and moves it to the dead-letter queue after its retries: nothing is lost.
 */
export async function handleJobMessage(deps: CoordinatorDeps, body: string): Promise<AggregateOutcome> {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new ConsiliumError("INVALID_JOB", "job message is not JSON", 400);
  }
  const parsed = Job.safeParse(raw);
  if (!parsed.success) throw new ConsiliumError("INVALID_JOB", `job message is not a job: ${parsed.error.issues[0]?.message ?? ""}`, 400);
  const job = parsed.data;
  return aggregateRound(job.run === undefined ? await activeRunDeps(deps) : scopeToRun(deps, job.run), job);
}
