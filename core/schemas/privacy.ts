/**
 * @module
 * Differential privacy on the wire: the consortium's policy (in the federation's configuration
 * and every training task), what a site reports having spent with each update, and the notice a
 * site sends when it refuses a round because it would exceed its budget.
 */
import { z } from "zod";

/**
 * The consortium's privacy policy. `sample`: DP-SGD at every site (per-example clipping to
 * `clip`, Gaussian noise calibrated by each site for the whole federation); `client`: each site
 * clips its whole update to `clip` and adds its share of the noise (DP-FedAvg with the noise
 * split across sites). `epsilon` and `delta` are each site's budget over the federation.
 */
export const PrivacyPolicy = z.object({
  level: z.enum(["sample", "client"]),
  epsilon: z.number().positive().max(1000),
  delta: z.number().positive().max(0.1).default(1e-5),
  clip: z.number().positive().max(1e6).default(1),
  /**
   * The ε a site may spend over all the consortium's runs on the same patients (composed by the
   * RDP accountant across runs); `epsilon` is each run's. Absent, one run's ε: a site then
   * declines every private round of a later run, never silently starting again from zero.
   */
  lifetimeEpsilon: z.number().positive().max(10000).optional(),
});
export type PrivacyPolicy = z.infer<typeof PrivacyPolicy>;

/** A site's privacy ledger in brief: ε spent so far (this round included), at δ, against its budget. */
/**
 * Noise on the statistics sites send before training (`core/preprocess/noisy-stats.ts`): the
 * (ε, δ) each site spends on them, once, apart from the training budget.
 */
export const StatsNoise = z.object({
  epsilon: z.number().positive().max(100),
  delta: z.number().gt(0).lt(0.01),
});
export type StatsNoise = z.infer<typeof StatsNoise>;

export const PrivacySpent = z.object({
  level: z.enum(["sample", "client"]),
  epsilon: z.number().nonnegative(),
  delta: z.number().positive().max(0.1),
  /** The ε the site may spend over the federation: the policy's, or less when the site caps it. */
  budget: z.number().positive(),
  noiseMultiplier: z.number().nonnegative(),
  /** Over all the consortium's runs at this site, and the lifetime budget (absent from sites before runs). */
  lifetime: z.object({ epsilon: z.number().nonnegative(), budget: z.number().positive() }).optional(),
});
export type PrivacySpent = z.infer<typeof PrivacySpent>;

/** `POST /v1/rounds/:round/declines`: a site will not train this round, and why. */
export const SiteDecline = z.object({
  round: z.number().int().positive(),
  code: z.literal("PRIVACY_BUDGET_EXHAUSTED"),
  message: z.string().min(1).max(2000),
  privacy: PrivacySpent,
});
export type SiteDecline = z.infer<typeof SiteDecline>;

export const StoredDecline = SiteDecline.extend({ siteId: z.string(), receivedAt: z.number() });
export type StoredDecline = z.infer<typeof StoredDecline>;

/** A site's privacy in the federation's status and the run report. */
export const SitePrivacy = PrivacySpent.extend({
  siteId: z.string(),
  /** Rounds the site refused because they would have exceeded its budget. */
  refusedRounds: z.array(z.number().int().positive()),
});
export type SitePrivacy = z.infer<typeof SitePrivacy>;
