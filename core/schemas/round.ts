import { PrivacySpent } from "./privacy.ts";
import { z } from "zod";
import { DEFAULT_BINS, EvalCounts } from "../metrics/eval-counts.ts";
import { MULTICLASS_BINS, MulticlassCounts } from "../metrics/multiclass.ts";
import { ScoringDecision } from "../scoring/scoring-policy.ts";
import { MAX_SITE_COUNT, SiteCount } from "./site-count.ts";
import { MAX_PARTS, UploadedPart } from "./upload.ts";

/**
 * Counts as a site submits them: every site bins scores the same way, so that the coordinator can
 * pool them. Stored counts are read back as plain `EvalCounts` (stores may predate this rule).
 */
export const SubmittedCounts = EvalCounts.superRefine((c, ctx) => {
  if (c.pos.length !== DEFAULT_BINS) ctx.addIssue({ code: "custom", path: ["pos"], message: `histogram must have ${DEFAULT_BINS} bins, got ${c.pos.length}` });
  // Every other count adds up to n: bounding n keeps any sum over the sites a safe integer.
  if (c.n > MAX_SITE_COUNT) ctx.addIssue({ code: "custom", path: ["n"], message: `a site counts at most ${MAX_SITE_COUNT} predictions, got ${c.n}` });
});

/** A K-class model's counts as a site submits them: every site bins the same way (`MULTICLASS_BINS`), and `n` is bounded like the binary counts'. */
export const SubmittedMulticlass = MulticlassCounts.superRefine((c, ctx) => {
  if (c.pos[0]?.length !== MULTICLASS_BINS) ctx.addIssue({ code: "custom", path: ["pos"], message: `histograms must have ${MULTICLASS_BINS} bins, got ${c.pos[0]?.length ?? 0}` });
  if (c.n > MAX_SITE_COUNT) ctx.addIssue({ code: "custom", path: ["n"], message: `a site counts at most ${MAX_SITE_COUNT} predictions, got ${c.n}` });
});
export type SubmittedMulticlass = z.infer<typeof SubmittedMulticlass>;

export const RoundRecord = z.object({
  round: z.number().int().positive(),
  /** The model version sites train from in this round. */
  baseVersion: z.number().int().nonnegative(),
  status: z.enum(["open", "aggregating", "closed", "skipped"]),
  openedAt: z.number(),
  deadline: z.number(),
  /** Sites whose updates went into the aggregate, fixed when aggregation starts (idempotency). */
  included: z.array(z.string()).optional(),
  /** When the round stopped taking updates; a round aggregating for too long gets its job re-queued. */
  aggregationStartedAt: z.number().optional(),
  /** Times the aggregate job was re-queued because the round stayed aggregating (e.g. its job was dead-lettered). */
  requeues: z.number().int().nonnegative().optional(),
  requeuedAt: z.number().optional(),
  rejected: z.array(z.object({ siteId: z.string(), code: z.string(), message: z.string() })).optional(),
  /** The model version this round produced. */
  resultVersion: z.number().int().nonnegative().optional(),
  /**
   * Secure aggregation: the round's participants, neighbour graph (k, t) and how many sites each
   * phase accepted (advertised keys, shared keys, sent masked inputs, answered the unmasking).
   */
  secure: z
    .object({
      participants: z.number().int().nonnegative(),
      neighbours: z.number().int().nonnegative(),
      threshold: z.number().int().nonnegative(),
      advertised: z.number().int().nonnegative(),
      shared: z.number().int().nonnegative(),
      masked: z.number().int().nonnegative(),
      unmasked: z.number().int().nonnegative(),
      /** When the session began (the advertise phase opened) and when each phase closed: its duration (absent from older records). */
      startedAt: z.number().optional(),
      closedAt: z.object({ advertise: z.number(), shareKeys: z.number(), maskedInput: z.number(), unmasking: z.number() }).partial().optional(),
    })
    .optional(),
  closedAt: z.number().optional(),
  reason: z.string().optional(),
  /** Skipped because every site declined it: the run's training stops here (`stop-declined-round.ts`), and the tick finishes the stop instead of opening the next round. */
  stop: z.literal("declined").optional(),
});
export type RoundRecord = z.infer<typeof RoundRecord>;

/** A site's report that its update is in the store (the update bytes travel separately). */
export const UpdateManifest = z.object({
  round: z.number().int().positive(),
  samples: SiteCount.positive(),
  codec: z.string(),
  byteLength: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The round's base model on this site's held-out rows, before training. */
  baseMetrics: SubmittedCounts.optional(),
  /** A K-class model's counts of the base model on the site's held-out rows (where a binary model sends `baseMetrics`). */
  baseClasses: SubmittedMulticlass.optional(),
  trainLoss: z.number().nonnegative().optional(),
  /** Bytes the site downloaded for this round (model). */
  bytesDown: SiteCount.default(0),
  /** A multipart upload (the task's `upload.kind`): its id, from the task. */
  uploadId: z.string().min(1).optional(),
  /**
   * A multipart upload: every part's ETag, for the coordinator to complete the upload. Checked
   * against the task's part count with `partList`, so that a wrong list is a 422, not a 400.
   */
  parts: z.array(UploadedPart).max(MAX_PARTS).optional(),
  /** Under a privacy policy: the site's ledger after this update. */
  privacy: PrivacySpent.optional(),
});
export type UpdateManifest = z.infer<typeof UpdateManifest>;

/** A stored update manifest: what the site sent plus what the coordinator verified. */
export const StoredUpdate = UpdateManifest.extend({
  baseMetrics: EvalCounts.optional(),
  siteId: z.string(),
  receivedAt: z.number(),
  /**
   * Asynchronous rounds, for an update trained in an earlier round than the one it counts in
   * (`round`): that round, and the model version it trained from; the update's staleness is its
   * round's base version minus this one.
   */
  trainedIn: z.number().int().positive().optional(),
  baseVersion: z.number().int().nonnegative().optional(),
});
export type StoredUpdate = z.infer<typeof StoredUpdate>;

export const ModelManifest = z.object({
  version: z.number().int().nonnegative(),
  /** The round that produced it; 0 for the initial model. */
  round: z.number().int().nonnegative(),
  length: z.number().int().positive(),
  byteLength: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  strategy: z.string(),
  sites: z.array(z.string()),
  samples: z.number().int().nonnegative(),
  /** The server's control variate for this version (strategies with control variates only). */
  control: z.object({ byteLength: z.number().int().positive(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).optional(),
  /** The compressed down-link delta that turns model `from` into this one (`core/model/downlink.ts`). */
  delta: z
    .object({
      from: z.number().int().nonnegative(),
      codec: z.string(),
      byteLength: z.number().int().positive(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    })
    .optional(),
  createdAt: z.number(),
});
export type ModelManifest = z.infer<typeof ModelManifest>;

/** Regional tiers: what a regional round published for the relay to send up (`keys.regionalAggregate`). */
export const RegionalAggregate = z.object({
  round: z.number().int().positive(),
  /** The global model the round's sites trained from. */
  baseVersion: z.number().int().nonnegative(),
  /** Training rows of the sites in the mean: the region's weight in the global mean. */
  samples: z.number().int().positive(),
  sites: z.array(z.string()).min(1),
  byteLength: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type RegionalAggregate = z.infer<typeof RegionalAggregate>;

/** The SQS message that asks for one round to be aggregated; safe to deliver twice. */
export const AggregateJob = z.object({
  kind: z.literal("aggregate"),
  federation: z.string(),
  round: z.number().int().positive(),
  /** The run the round belongs to (`runs/{run}/`); absent in jobs from before runs, which act on the active run. */
  run: z.number().int().nonnegative().optional(),
});
export type AggregateJob = z.infer<typeof AggregateJob>;

export const Job = z.discriminatedUnion("kind", [AggregateJob]);
export type Job = z.infer<typeof Job>;

/** A rejected input, kept so that nothing a site sent is lost without a trace. */
export const Rejection = z.object({
  at: z.number(),
  siteId: z.string().nullable(),
  round: z.number().int().nullable(),
  code: z.string(),
  message: z.string(),
});
export type Rejection = z.infer<typeof Rejection>;

/**
 * Requests refused before any site or administrator was authenticated (failed credentials, bodies
 * over the limit), counted per minute and code rather than kept one by one: an outsider must not
 * be able to fill the store or the status.
 */
export const FailureCount = z.object({
  /** Start of the minute, epoch milliseconds. */
  minute: z.number().int().nonnegative(),
  code: z.string(),
  count: z.number().int().positive(),
});
export type FailureCount = z.infer<typeof FailureCount>;

/** One round's audit record (`audit/round-{r}.json`): what went into the model and what did not. */
export const AuditRecord = z.object({
  round: z.number().int().positive(),
  baseVersion: z.number().int().nonnegative(),
  resultVersion: z.number().int().nonnegative(),
  strategy: z.string(),
  included: z.array(z.object({ siteId: z.string(), weight: z.number().nonnegative() })),
  rejected: z.array(z.object({ siteId: z.string(), code: z.string(), message: z.string() })),
  /** With contribution scoring: the sites left out in quarantine, and every decision with its reason. */
  scoring: z.object({ excluded: z.array(z.string()), decisions: z.array(ScoringDecision) }).optional(),
  /** Under a privacy policy: each included site's ledger as its update reported it, and the sites that declined the round. */
  privacy: z
    .object({
      spent: z.array(PrivacySpent.extend({ siteId: z.string() })),
      declined: z.array(z.string()),
    })
    .optional(),
  at: z.number(),
});
export type AuditRecord = z.infer<typeof AuditRecord>;
