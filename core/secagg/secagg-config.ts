import { createHash } from "node:crypto";
import { z } from "zod";
import { hexBytes } from "./hex.ts";
import { QuantisationSpec } from "./quantisation-spec.ts";

/** Most sites one secure-aggregation round takes (the graph and share ids stay cheap below it). */
export const MAX_SITES = 100_000;

/**
 * One round of secure aggregation, fixed by the coordinator when it opens the round and given to
 * every site unchanged. Sites are indexed 1..`sites` (index = 1 + position in the round's sorted
 * participant list); the index is also each site's Shamir share id. Everything a site signs or
 * encrypts is bound to `sessionId(config)`, so sites given different configs cannot interoperate.
 */
export const SecAggConfig = z
  .object({
    round: z.number().int().positive(),
    /** Public, fresh per round (drawn by the coordinator): seeds the neighbour graph and separates sessions. */
    roundSeed: hexBytes(32),
    sites: z.number().int().min(3).max(MAX_SITES),
    /** k: neighbours each site masks with and shares its secrets to; `sites − 1` is the complete graph (SecAgg). */
    neighbours: z.number().int().min(2),
    /** t: shares of a site's secret needed to recover it, out of its k neighbours. */
    threshold: z.number().int().min(2),
    /** Values in every masked vector. */
    length: z.number().int().positive().max(2 ** 30),
    quantisation: QuantisationSpec,
  })
  .superRefine((c, ctx) => {
    if (c.neighbours > c.sites - 1) ctx.addIssue({ code: "custom", path: ["neighbours"], message: `${c.sites} sites have at most ${c.sites - 1} neighbours each, got ${c.neighbours}` });
    else if (c.neighbours < c.sites - 1 && c.neighbours % 2 !== 0) ctx.addIssue({ code: "custom", path: ["neighbours"], message: `a sparse neighbour graph needs an even degree, got ${c.neighbours}` });
    if (c.threshold > c.neighbours) ctx.addIssue({ code: "custom", path: ["threshold"], message: `threshold ${c.threshold} exceeds the ${c.neighbours} neighbours that hold shares` });
    if (c.quantisation.maxSummands < c.sites) {
      ctx.addIssue({ code: "custom", path: ["quantisation", "maxSummands"], message: `the quantisation must leave room for all ${c.sites} sites, got maxSummands ${c.quantisation.maxSummands}` });
    }
  });
export type SecAggConfig = z.infer<typeof SecAggConfig>;

/**
 * The session a config defines: lower-case hex SHA-256 of its fields in a fixed order. Bound into
 * every signature, every AEAD's associated data and every key derivation of the round.
 *
 * @example
 * const session = sessionId(config); // "3f0c…", 64 hex digits
 */
export function sessionId(config: SecAggConfig): string {
  const q = config.quantisation;
  // The ring is named only when it is not the original 32 bits, so that earlier sessions keep their ids.
  const fields = [config.round, config.roundSeed, config.sites, config.neighbours, config.threshold, config.length, q.clipNorm ?? null, q.range ?? null, q.maxSummands, q.rounding, ...(q.bits === 16 ? [16] : [])];
  return createHash("sha256").update(`consilium/secagg/v1 session\n${JSON.stringify(fields)}`).digest("hex");
}
