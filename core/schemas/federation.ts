import { OperatingPointRule } from "../metrics/operating-point.ts";
import { z } from "zod";
import { CodecSpecText } from "../codec/index.ts";
import { ModelSpec } from "../model/model-spec.ts";
import { ScoringOptions } from "../scoring/scoring-policy.ts";
import { AsyncPolicy } from "../async/async-policy.ts";
import { FeatureSpec } from "./feature-spec.ts";
import { PrivacyPolicy, StatsNoise } from "./privacy.ts";
import { SecureAggregationPolicy } from "./secure-aggregation.ts";
import { ContinuousPolicy } from "./consortium.ts";

/** What a site does with the shared body in one round; sent to every site with its task. */
export const TrainingConfig = z.object({
  localEpochs: z.number().int().min(1).max(1000),
  /**
   * Minibatch steps per round, the same at every site (overrides localEpochs). Equal steps keep
   * FedAvg's fixed point on the pooled objective; equal epochs weight large sites twice (Wang et
   * al. 2020, FedNova).
   */
  localSteps: z.number().int().min(1).max(1_000_000).optional(),
  /** Cosine decay of the site learning rate over the planned rounds shrinks client drift to zero. */
  lrSchedule: z.enum(["constant", "cosine"]).default("constant"),
  batchSize: z.number().int().min(1).max(65536),
  learningRate: z.number().positive().max(10),
  /** L2 penalty on kernels (weight decay) during local training. */
  l2: z.number().nonnegative().max(10).default(0),
  /** Epochs of personal-head fitting on top of the frozen global body. */
  headEpochs: z.number().int().min(0).max(10000).default(50),
  /** Step size of personal-head fitting; defaults to learningRate. Keep headL2 × rate below 2. */
  headLearningRate: z.number().positive().max(10).optional(),
  /** Pull of the personal head towards zero (towards the global output layer). */
  headL2: z.number().nonnegative().max(100).default(0.01),
  /**
   * FedProx's μ (Li et al. 2020): each site's local objective adds μ/2·‖w − w_global‖² over the
   * shared body, pulling it towards the body the round started from. Absent or 0: off.
   */
  proximalMu: z.number().nonnegative().max(100).optional(),
  /**
   * How a site makes its personal model (absent: `residual`). Whatever the method, a site keeps it
   * only where it beats the global model on a validation share of its own training rows.
   * - `residual`: a head added to the output layer, fitted after the last round on the frozen body.
   * - `finetune`: the global model's last `layers` layers (1: the output layer) fine-tuned on the
   *   site's rows after the last round, pulled towards the global weights by headL2.
   * - `ditto` (Li et al. 2021): a whole personal model trained at every round alongside the
   *   global one, on the site's rows with λ/2·‖v − w_global‖² pulling it towards the round's model.
   * - `fedrep` (after Collins et al. 2021, FedRep): the residual head is the site's own and trained
   *   at every round: first on the round's model, frozen (the round's local steps at
   *   headLearningRate, headL2 towards zero), then the shared body trains with that head in place.
   *   Only the body leaves the site; the global model is the body alone.
   */
  personalization: z
    .discriminatedUnion("method", [
      z.object({ method: z.literal("residual") }),
      z.object({ method: z.literal("finetune"), layers: z.int().min(1).max(16).default(1) }),
      z.object({ method: z.literal("ditto"), lambda: z.number().positive().max(100) }),
      z.object({ method: z.literal("fedrep") }),
    ])
    .optional(),
}).refine((t) => (t.proximalMu ?? 0) * t.learningRate < 1, {
  // Each step moves w by −rate·μ·(w − w_global) from the proximal term alone: at rate·μ ≥ 1 it overshoots the global body and oscillates or diverges.
  message: "proximalMu × learningRate must be below 1: a larger product overshoots the global body at every step",
  path: ["proximalMu"],
}).refine((t) => (t.personalization?.method !== "finetune" && t.personalization?.method !== "fedrep") || t.headL2 * (t.headLearningRate ?? t.learningRate) < 1, {
  message: "the personal model's pull (towards the global model for a fine-tune, towards no head for fedrep), headL2 × headLearningRate, must be below 1: a larger product overshoots it at every step",
  path: ["headL2"],
}).refine((t) => t.personalization?.method !== "ditto" || t.personalization.lambda * t.learningRate < 1, {
  message: "Ditto's lambda × learningRate must be below 1: a larger product overshoots the global model at every step",
  path: ["personalization", "lambda"],
});
export type TrainingConfig = z.infer<typeof TrainingConfig>;

/** A codec spec for the down-link: any but random-k (see `FederationConfig.downlinkCodec`). */
export const DownlinkCodec = CodecSpecText.refine((spec) => !spec.startsWith("randk"), {
  message: "random-k cannot compress the down-link (its rescaled deltas overshoot the model); use int8, int4, float16 or topk",
});

/** The down-link's codec spec: the federation's, else the update codec (int8 for random-k, which the down-link cannot use). */
export function downlinkCodecOf(config: { readonly codec: string; readonly downlinkCodec?: string }): string {
  return config.downlinkCodec ?? (config.codec.startsWith("randk") ? "int8" : config.codec);
}

/** The bound on update values when a federation's config sets none; deltas of a sane round are orders of magnitude below. */
export const DEFAULT_MAX_UPDATE_ABS = 1e4;

/** The consortium's agreement: data model, model, schedule and aggregation. Written once. */
export const FederationConfig = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  features: FeatureSpec,
  model: ModelSpec,
  training: TrainingConfig,
  rounds: z.number().int().min(1).max(100000),
  /** Sites whose statistics are needed before training starts, and whose updates close a round early. */
  expectedSites: z.number().int().min(1).max(10000),
  /** Updates that close a round before its deadline; defaults to expectedSites. */
  quorum: z.number().int().min(1).max(10000).optional(),
  /**
   * Buffered asynchronous rounds (FedBuff, `core/async`): a round closes at `bufferSize` updates
   * (the quorum), and an update trained from an older model still counts, in the round open when
   * it arrives, weighted by its staleness, unless it is more than `maxStaleness` versions old.
   * Sites train whenever they are free; `rounds` counts server versions. Synchronous when absent.
   */
  async: AsyncPolicy.optional(),
  /**
   * Regional tiers: this coordinator serves one region's sites for a global federation. Its
   * rounds are opened by the region's relay with the global coordinator's preprocessing and
   * models, and a round publishes only the regional aggregate (the sample-weighted mean of its
   * sites' updates) for the relay to send up with the region's sample count; no site's update
   * leaves the region. Needs a mean-based strategy without contribution scoring.
   */
  upstream: z.object({ region: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "region must be lower-case letters, digits and dashes") }).optional(),
  /** A round past its deadline aggregates what it has (or is skipped when nothing arrived). */
  roundDeadlineSeconds: z.number().int().min(1).max(7 * 24 * 3600),
  strategy: z.string().min(1),
  /** How sites encode their updates: a codec spec (`CodecSpec`), e.g. "float32", "int8" or "topk:0.1+int8". */
  codec: CodecSpecText,
  /**
   * How the coordinator sends each new model to the sites that hold the one before it: a codec
   * spec for the delta (`core/model/downlink.ts`); absent, the update codec (int8 for random-k).
   * With "float32" sites download whole models only. Random-k cannot be used: each delta encodes
   * the whole gap to the strategy's model, which only converges for a compressor that shrinks it,
   * and random-k's 1/F rescaling overshoots instead.
   */
  downlinkCodec: DownlinkCodec.optional(),
  /**
   * What the data-quality checks (`core/quality`, always run on the sites' statistics) do with a
   * flagged site: `warn` records the flag; `exclude` also leaves the site out of the preprocessing,
   * the rounds and the evaluation (unless that would leave fewer than two sites). Default warn.
   */
  quality: z.object({ policy: z.enum(["warn", "exclude"]) }).optional(),
  /**
   * How the threshold the model is used at is chosen, from the final model's scores on the sites'
   * training rows pooled (`core/metrics/operating-point.ts`); absent: Youden's J.
   */
  operatingPoint: OperatingPointRule.optional(),
  /**
   * Sites add Gaussian noise to the statistics they send before training, spending this (ε, δ)
   * once (`core/preprocess/noisy-stats.ts`); the spec must give every numeric feature a range and
   * every categorical one its levels. Exact statistics when absent.
   */
  statsNoise: StatsNoise.optional(),
  /**
   * Secure aggregation (SecAgg+, `core/secagg`): the coordinator sees only the sum of the sites'
   * clipped, quantised updates, never one of them. Needs a mean-based strategy without control
   * variates, contribution scoring or asynchronous rounds, and a float32 or random-k codec. Off
   * when absent.
   */
  secureAggregation: SecureAggregationPolicy.optional(),
  /** Differential privacy (`PrivacyPolicy`); none when absent. */
  privacy: PrivacyPolicy.optional(),
  seed: z.number().int().nonnegative(),
  /**
   * Largest absolute value an update may hold (default DEFAULT_MAX_UPDATE_ABS). A finite but huge
   * delta from one site would overflow the aggregate and stall every later round.
   */
  maxUpdateAbs: z.number().positive().optional(),
  /**
   * Contribution scoring (`core/scoring`): each round scores every update, keeps a reputation per
   * site, down-weights doubtful sites and quarantines offenders, with the policy's thresholds
   * (defaults filled in). Off when absent.
   */
  scoring: z.object({ enabled: z.boolean() }).extend(ScoringOptions.partial().shape).optional(),
  /**
   * Continuous learning (`ContinuousPolicy`): when the consortium trains again (schedule, grown
   * data, drift), and the promotion gate's rules. One run, started by hand, when absent.
   */
  continuous: ContinuousPolicy.optional(),
});
export type FederationConfig = z.infer<typeof FederationConfig>;

/** Where the federation stands; rewritten by the phase transitions only. */
export const FederationState = z.object({
  phase: z.enum(["stats", "training", "evaluating", "done"]),
  round: z.number().int().nonnegative(),
  /** The latest model version (the version a new round trains from). */
  modelVersion: z.number().int().nonnegative(),
  updatedAt: z.number(),
});
export type FederationState = z.infer<typeof FederationState>;

export const SiteRecord = z.object({
  id: z.string(),
  name: z.string(),
  /** The hash of the credential issued at enrolment (generation 0). */
  tokenSha256: z.string().regex(/^[0-9a-f]{64}$/),
  enrolledAt: z.number(),
  /** When that credential stops working (epoch ms); absent: it does not expire. */
  expiresAt: z.number().optional(),
});
export type SiteRecord = z.infer<typeof SiteRecord>;

/** `GET /v1/credential`: the site a credential names, which of its credentials it is, when it expires (null: never), and the coordinator's clock (epoch ms). */
export const CredentialCheck = z.object({
  siteId: z.string(),
  name: z.string(),
  generation: z.int().nonnegative(),
  expiresAt: z.number().nullable(),
  now: z.number(),
});
export type CredentialCheck = z.infer<typeof CredentialCheck>;

/** How long a credential issued now works: whole days, at most ten years; absent, it does not expire. */
export const ExpiresInDays = z.int().min(1).max(3650);

export const EnrolRequest = z.object({
  name: z.string().min(1).max(200),
  /** A chosen site id (reproducible simulations, stable names); a random suffix is added otherwise. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "site id must be lower-case letters, digits and dashes").optional(),
  expiresInDays: ExpiresInDays.optional(),
});

/**
 * `site-credentials/{site}/{generation}.json`, written once: a site's credential after a rotation.
 * Generation n + 1 existing means generation n no longer works (enrolment's is generation 0).
 */
export const SiteCredentialRecord = z.object({ generation: z.int().min(1), tokenSha256: z.string().regex(/^[0-9a-f]{64}$/), issuedAt: z.number(), expiresAt: z.number().nullable(), by: z.string() });
export type SiteCredentialRecord = z.infer<typeof SiteCredentialRecord>;

/** `POST /v1/admin/sites/:site/rotate`. */
export const RotateRequest = z.object({ expiresInDays: ExpiresInDays.optional() });

/** A rotation's answer: the new credential, shown this once. */
export const RotatedCredential = z.object({ siteId: z.string(), generation: z.int().min(1), token: z.string(), expiresAt: z.number().nullable() });
export type RotatedCredential = z.infer<typeof RotatedCredential>;
export type EnrolRequest = z.infer<typeof EnrolRequest>;

export const EnrolResponse = z.object({ siteId: z.string(), token: z.string() });
export type EnrolResponse = z.infer<typeof EnrolResponse>;
