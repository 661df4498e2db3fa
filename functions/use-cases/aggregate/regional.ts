import { encodeUpdate, sha256Hex } from "../../../core/codec/index.ts";
import { ConsiliumError } from "../../../core/errors.ts";
import type { RegionalAggregate, RoundRecord } from "../../../core/schemas/round.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { writeJson } from "../../repo.ts";
import type { AggregateOutcome, RoundContext } from "./round-context.ts";
import { secureMeanOf } from "./secure-mean.ts";
import { streamedMean } from "./streamed.ts";
import { auditCoordinator } from "../audit/append-audit.ts";
import { summariseRound } from "../round-summary.ts";

/** Fewest sites whose updates a region's aggregate may hold: one site's update must never leave its region. */
export const MIN_REGIONAL_SITES = 2;

/**
 * A region's round: the weighted mean of its sites' updates (unmasked, under secure aggregation)
 * goes up before any strategy state is read, since the region's own server step would be
 * discarded; never fewer than `MIN_REGIONAL_SITES` sites.
 */
export async function aggregateRegional(ctx: RoundContext): Promise<AggregateOutcome> {
  const { deps, job, round, rows, rejected } = ctx;
  const regional = ctx.config.secureAggregation ? await secureMeanOf(ctx) : await streamedMean(ctx);
  if ("reason" in regional) return ctx.skip(regional.reason);
  const { kept, mean } = regional;
  if (kept.length < MIN_REGIONAL_SITES) return ctx.skip(`${kept.length} valid update(s): a region sends up the mean of at least ${MIN_REGIONAL_SITES} sites, never one site's update`);
  const samples = kept.reduce((n, u) => n + (rows.get(u.siteId) ?? 0), 0);
  await publishRegional(deps, { round: job.round, baseVersion: round.baseVersion, samples, sites: kept.map((u) => u.siteId) }, mean);
  await writeJson(deps.store, keys.round(job.round), { ...round, status: "closed", rejected, closedAt: deps.clock.now() } satisfies RoundRecord);
  deps.logger.info("regional round aggregated", { round: job.round, sites: kept.length, samples });
  await auditCoordinator(deps, "round.close", `round/${job.round}`, { included: kept.map((u) => u.siteId), rejected: rejected.map((r) => ({ siteId: r.siteId, code: r.code })), regional: true });
  await summariseRound(deps, job.round);
  return "aggregated";
}

/**
 * A region's round result: the weighted mean of its sites' updates and the rows behind it,
 * written once for the region's relay to send to the global coordinator.
 */
async function publishRegional(deps: CoordinatorDeps, meta: Omit<RegionalAggregate, "byteLength" | "sha256">, mean: Float32Array): Promise<void> {
  await deps.store.put(keys.regionalAggregate(meta.round), encodeUpdate(mean, "float32"), { ifAbsent: true, contentType: "application/octet-stream" });
  // The manifest describes the bytes stored, whichever delivery wrote them first.
  const bytes = await deps.store.get(keys.regionalAggregate(meta.round));
  if (!bytes) throw new ConsiliumError("CORRUPT_STATE", `regional aggregate of round ${meta.round} vanished after it was written`, 500);
  const manifest: RegionalAggregate = { ...meta, byteLength: bytes.length, sha256: sha256Hex(bytes) };
  await writeJson(deps.store, keys.regionalAggregateManifest(meta.round), manifest, { ifAbsent: true });
}
