import { loadStrategyState } from "../load-strategy-state.ts";
import { loadModel } from "../models.ts";
import { unmaskRound } from "../secure/unmask.ts";
import type { Aggregated, RoundContext } from "./round-context.ts";

/** A secure round's weighted mean (`unmaskRound`), its sites' rows and ledgers noted in the context; or why it cannot be had. */
export async function secureMeanOf(ctx: RoundContext): Promise<{ kept: { siteId: string; weight: number }[]; mean: Float32Array } | { reason: string }> {
  const unmasked = await unmaskRound(ctx.deps, ctx.job.round, ctx.length);
  if ("reason" in unmasked) return unmasked;
  for (const [siteId, rows] of unmasked.rows) ctx.rows.set(siteId, rows);
  for (const [siteId, spent] of unmasked.privacy) ctx.privacy.set(siteId, spent);
  return { kept: unmasked.kept, mean: unmasked.mean };
}

/** A secure round's mean, handed to the strategy to finish (`fromMean`). */
export async function secureRound(ctx: RoundContext): Promise<Aggregated> {
  const { deps, baseVersion, strategy, bodySize } = ctx;
  const global = await loadModel(deps, baseVersion);
  const state = await loadStrategyState(deps, strategy, baseVersion, bodySize);
  const secure = await secureMeanOf(ctx);
  if ("reason" in secure) return { result: { kind: "skip", reason: secure.reason, state }, kept: [], excluded: [], state, global };
  const result = strategy.fromMean!(global, { siteId: "mean", weight: 1, delta: secure.mean.subarray(0, bodySize) }, state);
  return { result, kept: secure.kept, excluded: [], state, global };
}
