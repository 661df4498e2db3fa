import { OperatingPoint } from "../metrics/operating-point.ts";
import { z } from "zod";
import { MulticlassSummary } from "../metrics/multiclass.ts";
import { ClinicalMetrics } from "../metrics/clinical-metrics.ts";
import { SiteScore } from "../scoring/score-updates.ts";
import { ScoringDecision } from "../scoring/scoring-policy.ts";
import { FederationState } from "./federation.ts";
import { FailureCount, Rejection, RoundRecord } from "./round.ts";
import { StoredEvaluation } from "./task.ts";
import { SitePrivacy } from "./privacy.ts";
import { QualityReport } from "../quality/quality-report.ts";
import { FeaturesAgreement } from "./preprocessing.ts";
import { AsyncPolicy } from "../async/async-policy.ts";
import { SecureAggregationPolicy } from "./secure-aggregation.ts";

/** Most rejections one status lists: the response stays far below Lambda's 6 MB however many are stored. */
export const MAX_STATUS_REJECTIONS = 200;
/** Most per-site entries a status with `?perSite=true` carries (about 100 bytes each), so that the answer stays below Lambda's 6 MB; past it they are left out, saying so. */
export const MAX_STATUS_PER_SITE = 25_000;

/** One site's update in a round (`?perSite=true`): what it trained on, its training loss, and the round's base model on its held-out rows. */
export const RoundSiteStatus = z.object({
  siteId: z.string(),
  samples: z.number().int().positive(),
  /** Asynchronous rounds: the older model version the update trained from. */
  baseVersion: z.number().int().nonnegative().optional(),
  trainLoss: z.number().nonnegative().optional(),
  auroc: z.number().min(0).max(1).nullable().optional(),
  accuracy: z.number().min(0).max(1).nullable().optional(),
});
export type RoundSiteStatus = z.infer<typeof RoundSiteStatus>;

export const RoundStatus = RoundRecord.extend({
  updates: z.number().int().nonnegative(),
  /** Asynchronous rounds: how many of the updates were trained from an older model than the round's. */
  stale: z.number().int().nonnegative().optional(),
  bytesUp: z.number().int().nonnegative(),
  bytesDown: z.number().int().nonnegative(),
  /** Pooled metrics of the round's base model on every reporting site's held-out rows. */
  baseModel: ClinicalMetrics.nullable(),
  /** The sites' training loss in the round, weighted by their samples; null when none reported one (absent from older coordinators). */
  trainLoss: z.number().nonnegative().nullable().optional(),
  /** Asked for (`?perSite=true`): each update of the round, site by site. */
  sites: z.array(RoundSiteStatus).optional(),
  /** With contribution scoring: each scored site's scores and the decision they led to. */
  scores: z.array(SiteScore.extend(ScoringDecision.pick({ action: true, factor: true, reason: true }).shape)).optional(),
});
export type RoundStatus = z.infer<typeof RoundStatus>;

export const SiteStatus = z.object({
  id: z.string(),
  name: z.string(),
  statsReported: z.boolean(),
  updates: z.number().int().nonnegative(),
  evaluated: z.boolean(),
  /** With contribution scoring, after the latest scored round: the site's reputation, the last round of its quarantine (0 for none), and whether that quarantine covers the current round. */
  reputation: z.number().min(0).max(1).optional(),
  quarantinedUntil: z.number().int().nonnegative().optional(),
  quarantined: z.boolean().optional(),
});
export type SiteStatus = z.infer<typeof SiteStatus>;

/** `GET /v1/status`: the federation as an administrator sees it. */
export const FederationStatus = z.object({
  federation: z.string(),
  strategy: z.string(),
  codec: z.string(),
  rounds: z.number().int(),
  /** Buffered asynchronous rounds, when the federation runs them (`FederationConfig.async`). */
  async: AsyncPolicy.optional(),
  /** Secure aggregation, when the federation runs it (`FederationConfig.secureAggregation`); each round's `secure` says how its phases went. */
  secureAggregation: SecureAggregationPolicy.optional(),
  state: FederationState,
  sites: z.array(SiteStatus),
  roundLog: z.array(RoundStatus),
  /** Asked for per-site lists past `MAX_STATUS_PER_SITE` updates: why they are left out. */
  perSiteOmitted: z.string().optional(),
  /** The newest rejections (at most `MAX_STATUS_REJECTIONS`, after the `rejectionsSkip` newest), oldest first. */
  rejections: z.array(Rejection),
  /** Every rejection stored; absent from older coordinators, which listed them all. */
  rejectionsTotal: z.number().int().nonnegative().optional(),
  /** Refusals before authentication over the last hour, per minute and code; absent from older coordinators. */
  failures: z.array(FailureCount).optional(),
  /** Why the federation cannot leave its phase on its own (e.g. statistics that do not merge); null when nothing blocks it. */
  blocked: Rejection.nullable().optional(),
  evaluations: z.array(StoredEvaluation),
  /** The data-quality checks' flags and exclusions, once the statistics phase has completed. */
  quality: QualityReport.nullable().optional(),
  /** Which features the sites provide and which the consortium uses, once the statistics phase has completed. */
  features: FeaturesAgreement.optional(),
  /** Under a privacy policy: each site's ledger as its updates and refusals report it. */
  privacy: z.array(SitePrivacy).optional(),
  final: z
    .object({
      global: ClinicalMetrics,
      personalized: ClinicalMetrics,
      local: ClinicalMetrics,
      sites: z.number().int(),
      /** The global model at the consortium's operating threshold; null when no site sent training-row counts (older runners). Absent from older coordinators. */
      operatingPoint: OperatingPoint.nullable().optional(),
    })
    .nullable(),
  /** A K-class model's final evaluation, pooled over the sites that sent it (where a binary model has `final`). Absent for binary models. */
  finalClasses: z
    .object({ names: z.array(z.string()), global: MulticlassSummary, personalized: MulticlassSummary, local: MulticlassSummary, sites: z.number().int() })
    .optional(),
});
export type FederationStatus = z.infer<typeof FederationStatus>;
