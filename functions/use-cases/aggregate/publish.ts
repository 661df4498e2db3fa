import type { AuditRecord, RoundRecord } from "../../../core/schemas/round.ts";
import { encodeState } from "../../../core/strategy/state-codec.ts";
import { keys } from "../../keys.ts";
import { writeJson } from "../../repo.ts";
import { saveModel } from "../models.ts";
import { recordRejection } from "../record-rejection.ts";
import { scoreRound } from "../score-round.ts";
import { summariseRound } from "../round-summary.ts";
import { downlink } from "./downlink.ts";
import type { Aggregated, AggregateOutcome, RoundContext } from "./round-context.ts";
import { auditCoordinator } from "../audit/append-audit.ts";

/** Why a round whose strategy produced Inf or NaN is skipped; the next round trains from the same base. */
export const NOT_FINITE = "aggregate is not finite";

/**
 * Ends a round with what its path aggregated: skipped with the reason, or model *r* (through the
 * down-link), the strategy state, the scores, the audit record and the closed round, every one
 * written once, then the next round opened.
 */
export async function publishRound(ctx: RoundContext, aggregated: Aggregated): Promise<AggregateOutcome> {
  const { deps, job, round, config, strategy, layout, prep, rows, privacy, rejected } = ctx;
  const { result, kept, excluded, state, global, scoring } = aggregated;
  const now = deps.clock.now();
  if (result.kind === "skip") return ctx.skip(result.reason);
  // saveModel refuses a non-finite model (or control): failing the job would fail every redelivery alike and jam the federation.
  if (![result.model, ...Object.values(result.state.vectors)].every((v) => v.every(Number.isFinite))) {
    const message = `round ${job.round}: ${NOT_FINITE} (strategy ${strategy.spec}); skipped, training goes on from model ${round.baseVersion}`;
    await recordRejection(deps, { siteId: null, round: job.round, code: "AGGREGATE_NOT_FINITE", message });
    return ctx.skip(NOT_FINITE);
  }
  const used = kept.filter((u) => !excluded.includes(u.siteId));
  const samples = used.reduce((n, u) => n + (rows.get(u.siteId) ?? 0), 0);
  const control = strategy.controlVariates ? result.state.vectors.c : undefined;
  const { model, delta } = await downlink(deps, config, job.round, round.baseVersion, global, result.model);
  await saveModel(deps, model, { version: job.round, round: job.round, strategy: strategy.spec, sites: used.map((u) => u.siteId), samples }, control, delta);
  await deps.store.put(keys.strategyState(job.round), encodeState(result.state), { ifAbsent: true });
  const scored = scoring && (await scoreRound(deps, {
      round: job.round,
      reputation: scoring.reputation,
      updates: scoring.updates,
      kept: scoring.kept,
      excluded,
      strategy,
      state,
      global,
      model: result.model,
      layout,
      prep,
      options: config.scoring,
    }));
  await writeJson(deps.store, keys.audit(`round-${String(job.round).padStart(6, "0")}`), {
    round: job.round,
    baseVersion: round.baseVersion,
    resultVersion: job.round,
    strategy: strategy.spec,
    included: kept.map((u) => ({ siteId: u.siteId, weight: u.weight })),
    rejected,
    ...(scored && { scoring: { excluded: scored.excluded, decisions: scored.decisions } }),
    ...(config.privacy && {
      privacy: {
        spent: used.flatMap((u) => {
          const p = privacy.get(u.siteId);
          return p ? [{ siteId: u.siteId, ...p }] : [];
        }),
        declined: (await deps.store.list(keys.declinesPrefix(job.round))).map((k) => k.slice(keys.declinesPrefix(job.round).length, -".json".length)),
      },
    }),
    at: now,
  } satisfies AuditRecord);
  await writeJson(deps.store, keys.round(job.round), { ...round, status: "closed", rejected, resultVersion: job.round, closedAt: now } satisfies RoundRecord);
  await auditCoordinator(deps, "round.close", `round/${job.round}`, {
    included: used.map((u) => u.siteId),
    rejected: rejected.map((r) => ({ siteId: r.siteId, code: r.code })),
    ...(scored && { quarantined: scored.excluded }),
    resultVersion: job.round,
  });
  await ctx.next(job.round);
  // Last: the next round opens without waiting for it, and a crash before it leaves it to the tick.
  await summariseRound(deps, job.round);
  deps.logger.info("round aggregated", { round: job.round, sites: kept.length, rejected: rejected.length, ...(scored && { quarantined: excluded.length }) });
  return "aggregated";
}
