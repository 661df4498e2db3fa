import { z } from "zod";
import { ClinicalMetrics } from "../metrics/clinical-metrics.ts";
import { FederationState } from "./federation.ts";
import { Rejection, RoundRecord } from "./round.ts";
import { StoredEvaluation } from "./task.ts";

export const RoundStatus = RoundRecord.extend({
  updates: z.number().int().nonnegative(),
  bytesUp: z.number().int().nonnegative(),
  bytesDown: z.number().int().nonnegative(),
  /** Pooled metrics of the round's base model on every reporting site's held-out rows. */
  baseModel: ClinicalMetrics.nullable(),
});
export type RoundStatus = z.infer<typeof RoundStatus>;

export const SiteStatus = z.object({
  id: z.string(),
  name: z.string(),
  statsReported: z.boolean(),
  updates: z.number().int().nonnegative(),
  evaluated: z.boolean(),
});
export type SiteStatus = z.infer<typeof SiteStatus>;

/** `GET /v1/status`: the federation as an administrator sees it. */
export const FederationStatus = z.object({
  federation: z.string(),
  strategy: z.string(),
  codec: z.string(),
  rounds: z.number().int(),
  state: FederationState,
  sites: z.array(SiteStatus),
  roundLog: z.array(RoundStatus),
  rejections: z.array(Rejection),
  /** Why the federation cannot leave its phase on its own (e.g. statistics that do not merge); null when nothing blocks it. */
  blocked: Rejection.nullable().optional(),
  evaluations: z.array(StoredEvaluation),
  final: z
    .object({ global: ClinicalMetrics, personalized: ClinicalMetrics, local: ClinicalMetrics, sites: z.number().int() })
    .nullable(),
});
export type FederationStatus = z.infer<typeof FederationStatus>;
