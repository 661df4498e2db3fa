import { z } from "zod";
import { CodecSpecText } from "../codec/index.ts";
import { Layout } from "../model/layout.ts";
import { ModelSpec } from "../model/model-spec.ts";
import { EvalCounts } from "../metrics/eval-counts.ts";
import { FeatureSpec } from "./feature-spec.ts";
import { TrainingConfig } from "./federation.ts";
import { Preprocessing } from "./preprocessing.ts";
import { SubmittedCounts, SubmittedMulticlass } from "./round.ts";
import { MulticlassCounts } from "../metrics/multiclass.ts";
import { SiteCount } from "./site-count.ts";
import { UploadTarget } from "./upload.ts";
import { PrivacyPolicy, StatsNoise } from "./privacy.ts";
import { SecureTasks, SecureTrain } from "./secure-aggregation.ts";

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

const ModelRef = z.object({
  version: z.number().int().nonnegative(),
  url: z.string().min(1),
  sha256: Sha256,
  byteLength: z.number().int().positive(),
  /**
   * The compressed down-link: a site that holds model `from` may download this delta instead and
   * add it (`applyDownlink`); the result must hash to `sha256` in the float32 container.
   */
  delta: z
    .object({
      from: z.number().int().nonnegative(),
      codec: CodecSpecText,
      url: z.string().min(1),
      sha256: Sha256,
      byteLength: z.number().int().positive(),
    })
    .optional(),
});
export type ModelRef = z.infer<typeof ModelRef>;

/** A registered version as a site downloads it: its weights (presigned), model, layout and its own preprocessing. */
export const ChampionModel = z.object({
  model: ModelRef,
  spec: ModelSpec,
  layout: Layout,
  preprocessing: Preprocessing,
  /** The threshold the consortium uses the model at (its card's operating point); absent when the card has none. */
  threshold: z.number().gt(0).lt(1).optional(),
});
export type ChampionModel = z.infer<typeof ChampionModel>;

/**
 * The answer to `GET /v1/champion`: the consortium's champion, or null before any version was
 * promoted, with the consortium's training config (the site refits its personal head with it).
 */
export const ChampionOffer = z.object({ champion: ChampionModel.extend({ training: TrainingConfig }).nullable() });
export type ChampionOffer = z.infer<typeof ChampionOffer>;

/** The answer to `GET /v1/task`: what this site should do next. */
export const Task = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("wait"), retryAfterMs: z.number().int().positive(), reason: z.string() }),
  z.object({
    kind: z.literal("stats"),
    features: FeatureSpec,
    /** Sites add noise to their statistics (`FederationConfig.statsNoise`). */
    noise: StatsNoise.optional(),
    /** The federation's id, which a site's kept noisy release is tied to. Absent from older coordinators. */
    federation: z.string().optional(),
  }),
  z.object({
    kind: z.literal("train"),
    round: z.number().int().positive(),
    /** Rounds planned in all, for the learning-rate schedule. */
    rounds: z.number().int().positive(),
    deadline: z.number(),
    model: ModelRef,
    /** The server's control variate (SCAFFOLD): the update then carries the site's control delta after the body delta. */
    control: ModelRef.optional(),
    spec: ModelSpec,
    layout: Layout,
    preprocessing: Preprocessing,
    training: TrainingConfig,
    /** The federation's codec spec (`CodecSpec`). */
    codec: CodecSpecText,
    /**
     * The federation's id, so that state a site keeps across rounds (its error-feedback residual)
     * is never carried into another federation. Absent from older coordinators.
     */
    federation: z.string().optional(),
    /** Where the encoded update goes: one presigned PUT, or a multipart upload above the coordinator's threshold. */
    upload: UploadTarget,
    /** `taskSeed(federation seed, round)`; the round's rand-k seed is `sharedSeed(seed)`. */
    seed: z.number().int().nonnegative(),
    /** The federation's privacy policy: the site trains privately and keeps its ledger. */
    privacy: PrivacyPolicy.optional(),
    /**
     * Under noisy statistics: the (noisy) row count this site reported, which its update weighs
     * instead of its exact training rows, so that the update does not reveal them.
     */
    weight: z.number().int().positive().optional(),
    /** Secure aggregation: mask the update (`core/secagg`) and post it with `POST /v1/rounds/:round/secure`. */
    secure: SecureTrain.optional(),
  }),
  z.object({
    kind: z.literal("evaluate"),
    model: ModelRef,
    spec: ModelSpec,
    layout: Layout,
    preprocessing: Preprocessing,
    training: TrainingConfig,
    /** The federation's id, which a site's kept state (Ditto's model) is tied to. Absent from older coordinators. */
    federation: z.string().optional(),
    /** The local-only baseline replays the federation's schedule, round by round, on this site alone. */
    rounds: z.number().int().positive(),
    seed: z.number().int().nonnegative(),
    /**
     * The consortium's champion, fixed when the run's evaluation began: the site scores it too, with
     * its own preprocessing, on the same held-out rows, so the promotion gate compares the two
     * models on the same patients. Absent when there is no champion yet.
     */
    champion: ChampionModel.optional(),
    /**
     * Whether the site sends the final global model's counts on its training rows as well
     * (`SiteEvaluation.globalTrain`, from which the operating threshold is chosen): asked only of a
     * federation without a privacy policy or noisy statistics, whose guarantees cover the training
     * rows and would not cover these counts.
     */
    trainCounts: z.boolean().optional(),
  }),
  z.object({ kind: z.literal("done"), modelVersion: z.number().int().nonnegative() }),
  ...SecureTasks,
]);
export type Task = z.infer<typeof Task>;

/**
 * Whether a site kept its personal head or the global model, judged on a validation share of its
 * training rows (`gpu-runner/training/choose-personal.ts`), with each one's cross-entropy there
 * (null: too few rows to judge, and the global model stands).
 */
export const PersonalChoice = z.object({
  kind: z.enum(["personal", "global"]),
  /** The method the personal model was made by (`TrainingConfig.personalization`). Absent from older runners. */
  method: z.string().max(100).optional(),
  reason: z.string().max(500),
  validationRows: z.int().nonnegative(),
  loss: z.object({ personal: z.number().nonnegative(), global: z.number().nonnegative() }).nullable(),
});
export type PersonalChoice = z.infer<typeof PersonalChoice>;

/** A K-class model's counts on the held-out rows, for the models a binary evaluation counts in `global`, `personalized` and `local`. */
const ClassCounts = z.object({ global: SubmittedMulticlass, personalized: SubmittedMulticlass, local: SubmittedMulticlass });

/**
 * Binary models report `global`, `personalized` and `local`; K-class models `classes` instead (and
 * neither `champion` nor `globalTrain`, which are binary).
 */
function oneKindOfCounts(e: { global?: unknown; personalized?: unknown; local?: unknown; classes?: unknown; champion?: unknown; globalTrain?: unknown }, ctx: z.RefinementCtx): void {
  const binary = [e.global, e.personalized, e.local].filter((c) => c !== undefined).length;
  if (e.classes === undefined && binary !== 3) ctx.addIssue({ code: "custom", path: ["global"], message: "a binary model's evaluation needs global, personalized and local counts" });
  if (e.classes !== undefined && (binary > 0 || e.champion !== undefined || e.globalTrain !== undefined)) {
    ctx.addIssue({ code: "custom", path: ["classes"], message: "a K-class model's evaluation has classes only (no binary global, personalized, local, champion or globalTrain counts)" });
  }
}

/** A site's closing report on the final model: counts only, on its own held-out rows. */
const SiteEvaluationFields = z.object({
  modelVersion: z.number().int().nonnegative(),
  trainRows: SiteCount,
  testRows: SiteCount,
  global: SubmittedCounts.optional(),
  personalized: SubmittedCounts.optional(),
  local: SubmittedCounts.optional(),
  /** A K-class model's counts (where a binary model reports `global`, `personalized` and `local`). */
  classes: ClassCounts.optional(),
  /** The champion's counts on the same held-out rows, when the task named one (its registry version). */
  champion: z.object({ version: z.number().int().min(1), counts: SubmittedCounts }).optional(),
  /**
   * The final global model's counts on the site's own training rows: pooled over the sites, the
   * histograms the operating threshold is chosen on, so that it is not chosen on the rows it is
   * then measured on. Absent from older runners.
   */
  globalTrain: SubmittedCounts.optional(),
  /** Which model `personalized` counts: the personal head's, or the global model's where the head did not beat it. Absent from older runners. */
  personalChoice: PersonalChoice.optional(),
});
export const SiteEvaluation = SiteEvaluationFields.superRefine(oneKindOfCounts);
export type SiteEvaluation = z.infer<typeof SiteEvaluation>;

/** Read back leniently: an evaluation stored before bins were fixed must not break the status. */
export const StoredEvaluation = SiteEvaluationFields.extend({
  global: EvalCounts.optional(),
  personalized: EvalCounts.optional(),
  local: EvalCounts.optional(),
  classes: z.object({ global: MulticlassCounts, personalized: MulticlassCounts, local: MulticlassCounts }).optional(),
  champion: z.object({ version: z.number().int().min(1), counts: EvalCounts }).optional(),
  globalTrain: EvalCounts.optional(),
  siteId: z.string(),
}).superRefine(oneKindOfCounts);
export type StoredEvaluation = z.infer<typeof StoredEvaluation>;

/** Whether an evaluation is a binary model's (its `global`, `personalized` and `local` counts present), not a K-class model's. */
export function isBinaryEvaluation<E extends { global?: object; personalized?: object; local?: object }>(
  e: E,
): e is E & { global: NonNullable<E["global"]>; personalized: NonNullable<E["personalized"]>; local: NonNullable<E["local"]> } {
  return e.global !== undefined && e.personalized !== undefined && e.local !== undefined;
}
