/**
 * @module
 * What a closed round's updates say, once: each update's traffic, samples, training loss, the base
 * model's metrics on the site's held-out rows and the site's privacy ledger, with the base model's
 * pooled metrics over the round's fresh updates. Written by the aggregator as it closes the round
 * (`functions/use-cases/round-summary.ts`) so that a status read parses one object per round
 * instead of one manifest per site and round; derived, so a summary that is missing, unreadable or
 * out of date is passed over and the manifests are read instead.
 */
import { z } from "zod";
import { ClinicalMetrics } from "../metrics/clinical-metrics.ts";
import { PrivacySpent } from "./privacy.ts";
import { MAX_SITE_COUNT } from "./site-count.ts";

const rate = z.number().min(0).max(1).nullable();

/** One update as the status counts it; `key` is its manifest's key (or a secure round's masked-input post's). */
export const SummarisedUpdate = z.object({
  key: z.string().min(1),
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

export const RoundSummary = z.object({
  round: z.number().int().positive(),
  updates: z.array(SummarisedUpdate).max(MAX_SITE_COUNT),
  /** The pooled metrics of the round's own model over the updates trained from it (their counts merged); null when none reported them. */
  baseModel: ClinicalMetrics.nullable(),
});
export type RoundSummary = z.infer<typeof RoundSummary>;
