import { OperatingPoint } from "../metrics/operating-point.ts";
import { z } from "zod";
import { ModelSpec } from "../model/model-spec.ts";
import { FederatedEvaluation } from "./federated-evaluation.ts";

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lower-case hex digits");
const Count = z.int().nonnegative();
const SiteId = z.string().min(1);
const unique = (ids: readonly string[]) => new Set(ids).size === ids.length;

/** The ε a site had spent on the version's run, at δ, against its budget. */
export const CardPrivacy = z.object({
  siteId: SiteId,
  epsilon: z.number().nonnegative(),
  delta: z.number().positive().max(0.1),
  budget: z.number().positive(),
});
export type CardPrivacy = z.infer<typeof CardPrivacy>;

/**
 * What a site trained on: its rows and positives, the dates its rows span (ms since the epoch)
 * when it knows them, and the digest of the statistics it sent (`statsHash`).
 */
export const SiteSnapshot = z.object({
  siteId: SiteId,
  rows: Count,
  positives: Count,
  window: z
    .object({ from: z.number(), to: z.number() })
    .refine((w) => w.from <= w.to, { message: "window.from must not be after window.to" })
    .optional(),
  statsSha256: Sha256,
}).refine((s) => s.positives <= s.rows, { message: "positives must not exceed rows", path: ["positives"] });
export type SiteSnapshot = z.infer<typeof SiteSnapshot>;

/**
 * The card of one registered model version, written once beside its weights and preprocessing:
 * its lineage (run, parent version, the config's hash, strategy, codec, model, features), the
 * privacy each site spent, what each site trained on, and its federated evaluation. Strategy and
 * codec stay plain text so that cards outlive a change to their grammar.
 *
 * @example
 * const card = ModelCard.parse(JSON.parse(text));
 */
export const ModelCard = z
  .object({
    version: z.int().min(1),
    run: z.string().min(1),
    /** The champion the run started from; `null` for a version trained from scratch. */
    parent: z.int().min(1).nullable(),
    createdAt: z.number(),
    /** `configHash(config)`: SHA-256 of the canonical JSON of the federation's config. */
    configSha256: Sha256,
    strategy: z.string().min(1),
    codec: z.string().min(1),
    model: ModelSpec,
    features: z.array(z.string().min(1)).min(1).refine(unique, { message: "feature names must be unique" }),
    /** The bytes the card describes, so that a card cannot be paired with other weights. */
    artifacts: z.object({ weightsSha256: Sha256, preprocessingSha256: Sha256 }).optional(),
    privacy: z.array(CardPrivacy).refine((p) => unique(p.map((s) => s.siteId)), { message: "site ids must be unique" }).optional(),
    sites: z.array(SiteSnapshot).min(1).refine((s) => unique(s.map((x) => x.siteId)), { message: "site ids must be unique" }),
    evaluation: FederatedEvaluation,
    /** The threshold the model is used at, chosen on the sites' training rows, and its rates on their held-out rows (absent from cards written before it, or when it could not be chosen). */
    operatingPoint: OperatingPoint.optional(),
  })
  .refine((c) => c.parent === null || c.parent < c.version, { message: "parent must be an earlier version", path: ["parent"] });
export type ModelCard = z.infer<typeof ModelCard>;
