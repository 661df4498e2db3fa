/**
 * @module
 * A closed round as the status reads it, in one object (`summaries/{r}.json`): its record, each
 * update's traffic, samples, training loss, the base model's metrics on the site's held-out rows
 * and the site's privacy ledger, the base model's pooled metrics, the round's scores, the
 * reputations after it, and the sites that declined it. Written once, after the round closed
 * (`functions/use-cases/round-summary.ts`), so that a status read lists one prefix and reads one
 * object per closed round instead of listing every round's keys and reading every manifest;
 * derived, so a round without a readable summary is read from its own keys instead.
 */
import { z } from "zod";
import { ClinicalMetrics } from "../metrics/clinical-metrics.ts";
import { Reputation } from "../scoring/reputation.ts";
import { RoundScores } from "../scoring/round-scores.ts";
import { PrivacySpent, StoredDecline } from "./privacy.ts";
import { RoundRecord } from "./round.ts";

/** Most updates or declines one round holds: the most sites a consortium may have (`SecAggConfig`'s bound too). */
const MAX_ROUND_SITES = 100_000;

const rate = z.number().min(0).max(1).nullable();

/** One update as the status counts it (a plain update's manifest or a secure round's masked-input post). */
export const SummarisedUpdate = z.object({
  siteId: z.string().min(1),
  samples: z.number().int().positive(),
  byteLength: z.number().int().nonnegative(),
  bytesDown: z.number().int().nonnegative(),
  /** Asynchronous rounds: the model version an update trained in an earlier round started from. */
  baseVersion: z.number().int().nonnegative().optional(),
  trainLoss: z.number().nonnegative().optional(),
  /** The round's base model on the site's held-out rows, before training (from its counts). */
  base: z.object({ n: z.number().int().nonnegative(), auroc: rate, accuracy: rate }).optional(),
  privacy: PrivacySpent.optional(),
});
export type SummarisedUpdate = z.infer<typeof SummarisedUpdate>;

export const RoundSummary = z
  .object({
    round: z.number().int().positive(),
    /** The round's record as it closed: closed or skipped. */
    record: RoundRecord,
    updates: z.array(SummarisedUpdate).max(MAX_ROUND_SITES),
    /** The pooled metrics of the round's own model over the updates trained from it (their counts merged); null when none reported them. */
    baseModel: ClinicalMetrics.nullable(),
    /** With contribution scoring: the round's scores and decisions, and every site's reputation after it. */
    scores: RoundScores.nullable(),
    reputation: Reputation.nullable(),
    declines: z.array(StoredDecline).max(MAX_ROUND_SITES),
  })
  .refine((s) => s.record.round === s.round && (s.record.status === "closed" || s.record.status === "skipped"), { message: "a summary is of a closed or skipped round, its own" });
export type RoundSummary = z.infer<typeof RoundSummary>;
