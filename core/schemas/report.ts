import { OperatingPoint } from "../metrics/operating-point.ts";
import { MetricIntervals } from "../metrics/clinical-metrics.ts";
import { Interval } from "../metrics/interval.ts";
import { MulticlassSummary } from "../metrics/multiclass.ts";
import { QualityReport } from "../quality/quality-report.ts";
import { FeaturesAgreement } from "./preprocessing.ts";
import { SitePrivacy } from "./privacy.ts";
import { z } from "zod";
import { RoundRecord } from "./round.ts";
import { LabelSummary } from "./label-summary.ts";

const rate = z.number().min(0).max(1).nullable();

/** Pooled metrics of one model; `intervals` holds their 95 % intervals (absent from reports written before them). */
const Pooled = z.object({ accuracy: rate, auroc: rate, sensitivity: rate, specificity: rate, intervals: MetricIntervals.optional() });
const span = Interval.nullable();

/** One simulated federation, one seed: what `consilium simulate --json` records per run. */
export const RunReport = z.object({
  seed: z.number().int(),
  /** Sites the attack lab made malicious in this run (empty without --attack). */
  malicious: z.array(z.string()).default([]),
  /** With contribution scoring: sites quarantined in any round of this run. */
  quarantined: z.array(z.string()).optional(),
  /** With contribution scoring: the first round each quarantined site was quarantined in, by site id. */
  firstQuarantined: z.record(z.string(), z.number().int().positive()).optional(),
  /** The data-quality checks: every flag with its reason, and the sites excluded for them. */
  quality: QualityReport.optional(),
  /** Which features the sites provide and which the consortium used. */
  features: FeaturesAgreement.optional(),
  /** Under a privacy policy: each site's ε spent, δ, budget and the rounds it refused. */
  privacy: z.array(SitePrivacy).optional(),
  /** How updates reached the coordinator: in the clear, or only as a masked sum (secure aggregation). */
  aggregation: z.enum(["plain", "secure"]).default("plain"),
  wallSeconds: z.number().nonnegative(),
  sites: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      trainRows: z.number().int(),
      testRows: z.number().int(),
      accuracy: z.object({ global: rate, personalized: rate, local: rate, centralized: rate }),
      /** The 95 % Wilson interval of each accuracy on the site's test rows (absent from reports written before them). */
      accuracyIntervals: z.object({ global: span, personalized: span, local: span, centralized: span }).optional(),
      /** Whether "personalized" is the personal head or the global model it did not beat on a validation share of the training rows (absent from older runners). */
      personalChoice: z.object({ kind: z.enum(["personal", "global"]), reason: z.string() }).optional(),
    }),
  ),
  meanSiteAccuracy: z.object({ global: rate, personalized: rate, local: rate, centralized: rate }),
  pooled: z.object({ global: Pooled, personalized: Pooled, local: Pooled, centralized: Pooled }),
  /** Per round: pooled AUROC of the model the round produced, and the bytes it moved. */
  rounds: z.array(
    z.object({
      round: z.number().int(),
      status: z.string(),
      sites: z.number().int(),
      auroc: rate,
      /** The sites' training loss in the round, weighted by their samples (absent from older reports). */
      loss: z.number().nonnegative().nullable().optional(),
      /** The AUROC of the model the round produced on each site's held-out rows, by site id (absent from older reports). */
      siteAuroc: z.record(z.string(), rate).optional(),
      bytesUp: z.number().int(),
      bytesDown: z.number().int(),
      /** Seconds from the opening of round 1 to this round's close (absent while it is open). */
      closedAt: z.number().optional(),
      /** Asynchronous rounds: updates trained from an older model than the round's. */
      stale: z.number().int().optional(),
      /** Secure aggregation: the neighbour graph and how many sites each phase accepted (`RoundRecord.secure`). */
      secure: RoundRecord.shape.secure,
      /** Why a skipped round was skipped. */
      reason: z.string().optional(),
      /** With contribution scoring: each scored site's scores and the action they led to, by site id. */
      scores: z
        .record(
          z.string(),
          z.object({ distance: z.number(), agreement: z.number(), alignment: z.number(), norm: z.number(), gain: z.number().optional(), action: z.enum(["keep", "down-weight", "quarantine"]) }),
        )
        .optional(),
    }),
  ),
  bytes: z.object({ up: z.number().int(), down: z.number().int() }),
  rejections: z.number().int(),
  /** The final global model at the consortium's operating threshold (chosen on the training rows), pooled and per site, beside 0.5; absent when it could not be chosen. */
  operatingPoint: OperatingPoint.optional(),
  /** Each final model's score histograms pooled over every site's held-out rows (positives, negatives by bin): its ROC curve and calibration. */
  curves: z.partialRecord(z.enum(["global", "personalized", "local", "centralized"]), z.object({ pos: z.array(z.number().int().nonnegative()), neg: z.array(z.number().int().nonnegative()) })).optional(),
  /**
   * A K-class model: each final model's pooled confusion matrix, per-class sensitivity,
   * specificity and one-vs-rest AUROC, and macro AUROC, with the classes' names. `pooled` then
   * holds each model's accuracy and, as its AUROC, the macro AUROC; its sensitivity and
   * specificity are per class, here.
   */
  classes: z
    .object({ names: z.array(z.string()), global: MulticlassSummary, personalized: MulticlassSummary, local: MulticlassSummary, centralized: MulticlassSummary.nullable() })
    .optional(),
});
export type RunReport = z.infer<typeof RunReport>;

/** Mean and standard deviation over seeds; `null` where no seed had a value. */
export const Stat = z.object({ mean: z.number().nullable(), sd: z.number().nullable() });
export type Stat = z.infer<typeof Stat>;

const PooledStat = z.object({ accuracy: Stat, auroc: Stat, sensitivity: Stat, specificity: Stat });
const Accuracies = z.object({ global: Stat, personalized: Stat, local: Stat, centralized: Stat });

/**
 * The `--json` report. Every figure is `{mean, sd}` over the seeds run (sd 0 for one seed), so
 * scripts read the same keys whatever `--seeds` was; `runs` keeps each seed's plain numbers with
 * their 95 % intervals over that seed's test rows. The sd over seeds measures how much training
 * varies, not how few test rows there are, so the summary keeps no interval of its own: with one
 * seed, read `runs[0]`'s.
 */
export const Report = z.object({
  consilium: z.literal(1),
  backend: z.string(),
  dataset: z.string(),
  model: z.string(),
  strategy: z.string(),
  codec: z.string(),
  roundsPlanned: z.number().int(),
  seeds: z.array(z.number().int()),
  sites: z.array(z.object({ id: z.string(), name: z.string(), trainRows: z.number().int(), testRows: z.number().int(), accuracy: Accuracies })),
  meanSiteAccuracy: Accuracies,
  federatedToCentralized: Stat,
  pooled: z.object({ global: PooledStat, personalized: PooledStat, local: PooledStat, centralized: PooledStat }),
  /** Per round, over the seeds: pooled AUROC of the model it produced, the sites' training loss in it (absent from older reports), bytes. */
  rounds: z.array(z.object({ round: z.number().int(), auroc: Stat, loss: Stat.optional(), bytesUp: Stat, bytesDown: Stat })),
  bytes: z.object({ up: Stat, down: Stat }),
  wallSeconds: Stat,
  rejections: Stat,
  /** The global model at the operating threshold over the seeds: the threshold, and the pooled rates at it (absent when no seed chose one). */
  operatingPoint: z.object({ threshold: Stat, sensitivity: Stat, specificity: Stat, ppv: Stat, npv: Stat }).optional(),
  runs: z.array(RunReport),
  /**
   * What reading the data decided (a CSV's): the label rule and its counts, how the file was read,
   * and every change to the meaning of the data (merged label spellings, rows left out, heavily
   * imputed features, sites with few rows).
   */
  data: z.object({ label: LabelSummary.optional(), notes: z.array(z.string()), warnings: z.array(z.string()) }).optional(),
});
export type Report = z.infer<typeof Report>;
