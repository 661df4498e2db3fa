/**
 * @module
 * The aggregate job: fixes the round's set of updates, re-verifies the copy of each kept on
 * acceptance against its manifest, applies the strategy with its stored state, writes the next
 * model and opens the next round. A bad update is rejected and recorded; a failure to read one
 * (a transient S3 error) fails the job, which SQS retries, so no site is dropped for it.
 * Delivering the same job twice yields the same model bytes: the update set is fixed once, the
 * updates are taken in site order, and every write of a result is write-once.
 *
 * One path per kind of round, each in its own file: a region's (`regional.ts`), a secure round's
 * (`secure-mean.ts`, unmasked in `../secure/unmask.ts`), the mean streamed for strategies that
 * finish from it (`streamed.ts`), every update decoded for the others and for scoring
 * (`decoded.ts`); `publish.ts` ends the round.
 */
import type { AggregateJob } from "../../../core/schemas/round.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { decodedRound } from "./decoded.ts";
import { publishRound } from "./publish.ts";
import { aggregateRegional } from "./regional.ts";
import { openRoundContext, type AggregateOutcome } from "./round-context.ts";
import { secureRound } from "./secure-mean.ts";
import { streamedRound, streams } from "./streamed.ts";

export type { AggregateOutcome } from "./round-context.ts";
export { NOT_FINITE } from "./publish.ts";
export { MIN_REGIONAL_SITES } from "./regional.ts";

export async function aggregateRound(deps: CoordinatorDeps, job: AggregateJob): Promise<AggregateOutcome> {
  const ctx = await openRoundContext(deps, job);
  if (ctx === "already-done") return ctx;
  if (ctx.config.upstream) return aggregateRegional(ctx);
  const path = ctx.config.secureAggregation ? secureRound : streams(ctx) ? streamedRound : decodedRound;
  return publishRound(ctx, await path(ctx));
}
