import { CodecSpec } from "../../../core/codec/index.ts";
import { ConsiliumError } from "../../../core/errors.ts";
import type { AggregateResult } from "../../../core/strategy/strategy.ts";
import { streamingMean, type UpdateSource } from "../../../core/sum/streaming-mean.ts";
import { maxUpdateAbsOf } from "../load-federation.ts";
import { loadStrategyState } from "../load-strategy-state.ts";
import { loadModel } from "../models.ts";
import { eachUpdate, missingMessage, weightOf, type Aggregated, type RoundContext } from "./round-context.ts";

/** Whether the round's strategy finishes from the weighted mean, so that the updates can be streamed into it. Contribution scoring compares every update with the others, so it needs them all decoded at once. */
export function streams(ctx: RoundContext): boolean {
  return ctx.strategy.fromMean !== undefined && !ctx.config.scoring?.enabled;
}

/**
 * Streams every update into its sample-weighted mean (`streamingMean`), then lets the strategy
 * finish from the mean: for strategies that are the mean and a server step. It holds the sum and
 * one piece per site read side by side instead of every site's float32 copy (see the README's
 * memory bound); a bad update is rejected as on the decoded path.
 */
export async function streamedRound(ctx: RoundContext): Promise<Aggregated> {
  const { deps, baseVersion, strategy, bodySize } = ctx;
  const { kept, mean } = await streamedMean(ctx);
  const global = await loadModel(deps, baseVersion);
  const state = await loadStrategyState(deps, strategy, baseVersion, bodySize);
  const result: AggregateResult =
    kept.length === 0
      ? { kind: "skip", reason: "no valid updates", state }
      : strategy.fromMean!(global, { siteId: "mean", weight: 1, delta: mean.subarray(0, bodySize), ...(strategy.controlVariates && { control: mean.subarray(bodySize) }) }, state);
  return { result, kept, excluded: [], state, global };
}

/**
 * The sample-weighted mean of the round's valid updates, streamed (`streamingMean`), with the
 * sites in it; bad updates are rejected and recorded. What a region sends up, and what mean-based
 * strategies finish from.
 */
export async function streamedMean(ctx: RoundContext): Promise<{ kept: { siteId: string; weight: number }[]; mean: Float32Array }> {
  const { deps, job, config, length, reject } = ctx;
  const sources: UpdateSource[] = [];
  await eachUpdate(ctx, async (siteId, m, key) => {
    const open = async () => (await deps.store.getStream(key)) ?? fail(new ConsiliumError("MISSING_UPDATE", missingMessage(siteId, job.round), 422));
    sources.push({ id: siteId, weight: weightOf(config, m, ctx.baseVersion), sha256: m.sha256, open });
  });
  const streamed = await streamingMean(sources, { length, codec: CodecSpec.parse(config.codec), maxAbs: maxUpdateAbsOf(config) });
  for (const { source, error } of streamed.rejected) await reject(source.id, error);
  if (streamed.passes > 1) deps.logger.info("updates summed again without rejected ones", { round: job.round, passes: streamed.passes });
  return { kept: streamed.kept.map((s) => ({ siteId: s.id, weight: s.weight })), mean: streamed.mean };
}

function fail(err: Error): never {
  throw err;
}
