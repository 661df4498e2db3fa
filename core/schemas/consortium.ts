/**
 * @module
 * A consortium that keeps training: its standing policy for starting runs, a run's record, the
 * triggers that start runs and the pointer to the run the sites work on.
 */
import { z } from "zod";
import { DriftFlag } from "../drift/drift-flag.ts";
import { DriftPolicy } from "../drift/policy.ts";
import { GatePolicy } from "../registry/gate-policy.ts";
import { SubmittedCounts } from "./round.ts";
import { SiteStats } from "./site-stats.ts";

/**
 * When a consortium trains again, and how a new version is judged. `schedule`: a run starts when
 * this long has passed since the last one started (the minute cron checks). `newData`: a run starts
 * when the rows the sites report at check-in have grown by this share over the champion's
 * training rows. `drift`: which drift flags start a run and which keep a site's new data out.
 * `gate`: the promotion gate's rules (defaults when absent).
 */
export const ContinuousPolicy = z.object({
  schedule: z.object({ everyHours: z.number().positive().max(24 * 366) }).optional(),
  newData: z.object({ growth: z.number().positive().max(100) }).optional(),
  drift: DriftPolicy.optional(),
  gate: GatePolicy.optional(),
});
export type ContinuousPolicy = z.infer<typeof ContinuousPolicy>;

/** What can start a run: the consortium's creation, an operator, the schedule, grown data or drift. */
export const TriggerKind = z.enum(["created", "manual", "schedule", "new-data", "drift"]);
export type TriggerKind = z.infer<typeof TriggerKind>;

/** One reason to train, written once under `consortium/triggers/`; the next run to start takes every pending one. */
export const TriggerRecord = z.object({
  key: z.string().min(1).max(200),
  kind: TriggerKind,
  at: z.number(),
  reason: z.string().min(1).max(2000),
});
export type TriggerRecord = z.infer<typeof TriggerRecord>;

/** A run, written once when it starts: which triggers it took, the champion it started from, its config. */
export const RunRecord = z.object({
  seq: z.int().min(1),
  id: z.string().min(1),
  startedAt: z.number(),
  triggers: z.array(TriggerRecord),
  /** The last trigger key this run took; later keys are pending. */
  consumedThrough: z.string().nullable(),
  /** The registry version that was champion when the run started: its body is the run's starting point. */
  parent: z.int().min(1).nullable(),
  configSha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type RunRecord = z.infer<typeof RunRecord>;

/** The run the sites work on; rewritten when a run starts (the run records are the truth, this is their index). */
export const ActiveRun = z.object({ seq: z.int().min(1) });
export type ActiveRun = z.infer<typeof ActiveRun>;

/** How a run's first model was made: the parent's body, or fresh weights and why. Written once per run. */
export const WarmStart = z.object({
  from: z.int().min(1).nullable(),
  reason: z.string(),
});
export type WarmStart = z.infer<typeof WarmStart>;

/** A run stopped without a model: by an operator when it cannot finish (a hospital gone, statistics that will not merge), or by the coordinator when every site declined its first round (privacy budgets). */
export const Abandoned = z.object({ at: z.number(), reason: z.string().min(1).max(2000) });
export type Abandoned = z.infer<typeof Abandoned>;

/** A run as the operator sees it. */
export const RunView = RunRecord.extend({
  abandoned: Abandoned.nullable(),
  phase: z.enum(["stats", "training", "evaluating", "done"]).nullable(),
  round: z.int().min(0).nullable(),
  warmStart: WarmStart.nullable(),
  /** The registry version the run registered, once done. */
  version: z.int().min(1).nullable(),
  active: z.boolean(),
});
export type RunView = z.infer<typeof RunView>;

export const RunsView = z.object({ runs: z.array(RunView), pending: z.array(TriggerRecord) });
export type RunsView = z.infer<typeof RunsView>;

/** An operator's request for a run. */
export const RunRequest = z.object({ reason: z.string().min(1).max(2000) });
export type RunRequest = z.infer<typeof RunRequest>;

/** What a trigger did: started a run, or waits (coalesced) for the one training to finish. */
export const TriggerOutcome = z.object({
  trigger: TriggerRecord,
  started: RunRecord.nullable(),
  waitingFor: z.int().min(1).nullable(),
});
export type TriggerOutcome = z.infer<typeof TriggerOutcome>;

/**
 * What a site sends when it checks in between runs: its current statistics (the same as a stats
 * task's, noised where the consortium noises them), a version of its data (any label of the
 * hospital's choosing: an extract date, a hash) and, when it holds the champion, the champion's
 * counts on its newly labelled rows.
 */
export const CheckIn = z.object({
  stats: SiteStats,
  dataVersion: z.string().min(1).max(200),
  champion: z.object({ version: z.int().min(1), counts: SubmittedCounts }).optional(),
});
export type CheckIn = z.infer<typeof CheckIn>;

/** What the coordinator made of a check-in: drift flags against the champion's training snapshot, and what they set off. */
export const CheckInAnswer = z.object({
  /** The version whose training snapshot of this site its data was compared with (null: no champion, or no version trained on this site). */
  comparedWith: z.int().min(1).nullable(),
  flags: z.array(DriftFlag),
  /** Flags acted on: `retrain: …` and `leave out …: …` lines. */
  reasons: z.array(z.string()),
  /** The site's new data is left out of training until a check-in without the flag. */
  excluded: z.boolean(),
  /** Triggers this check-in raised (drift, new data); each is raised once per champion (and site, for drift). */
  triggered: z.array(TriggerKind),
});
export type CheckInAnswer = z.infer<typeof CheckInAnswer>;

/** A check-in as kept, write-once under `consortium/checkins/{site}/`, and the site's latest. */
export const CheckInRecord = z.object({
  siteId: z.string(),
  at: z.number(),
  rows: z.int().nonnegative(),
  dataVersion: z.string(),
  answer: CheckInAnswer,
});
export type CheckInRecord = z.infer<typeof CheckInRecord>;

/** A site whose new data stays out of training, and why (a unit error, by default). */
export const DriftExclusion = z.object({ siteId: z.string(), since: z.number(), championVersion: z.int().min(1), reasons: z.array(z.string()).min(1) });
export type DriftExclusion = z.infer<typeof DriftExclusion>;
