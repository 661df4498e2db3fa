import { z } from "zod";
import { LabelDef } from "./feature-spec.ts";

export const NumericTransform = z.object({
  kind: z.literal("numeric"),
  name: z.string(),
  column: z.string(),
  missing: z.array(z.string()),
  mean: z.number(),
  sd: z.number().positive(),
  /** Adds a 0/1 input that says the value was imputed; set when any site had missing values. */
  missingIndicator: z.boolean(),
  /** The raw value a missing one is replaced by (the consortium's median); absent: the mean. */
  impute: z.number().optional(),
});
export type NumericTransform = z.infer<typeof NumericTransform>;

export const CategoricalTransform = z.object({
  kind: z.literal("categorical"),
  name: z.string(),
  column: z.string(),
  missing: z.array(z.string()),
  /** Every level seen in the consortium, sorted; the first is the reference level (no input). */
  levels: z.array(z.string()).min(1),
  impute: z.string(),
});
export type CategoricalTransform = z.infer<typeof CategoricalTransform>;

export const FeatureTransform = z.discriminatedUnion("kind", [NumericTransform, CategoricalTransform]);
export type FeatureTransform = z.infer<typeof FeatureTransform>;

/** How many of the sites provide one feature of the spec, and whether the consortium uses it. */
export const FeatureAgreement = z.object({
  name: z.string(),
  providedBy: z.number().int().nonnegative(),
  sites: z.number().int().positive(),
  used: z.boolean(),
  /** The sites (by id) that have no value of it, when the coordinator named them. */
  notProvidedBy: z.array(z.string()).optional(),
});
export type FeatureAgreement = z.infer<typeof FeatureAgreement>;

/** The consortium's agreement on features: the quorum, and each feature of the spec against it. */
export const FeaturesAgreement = z.object({ quorum: z.number().min(0).max(1), features: z.array(FeatureAgreement) });
export type FeaturesAgreement = z.infer<typeof FeaturesAgreement>;

/** The one transform every site applies, derived from the consortium's pooled statistics. */
export const Preprocessing = z.object({
  features: z.array(FeatureTransform).min(1),
  /** Every feature of the spec against the quorum (absent from older federations). */
  agreement: FeaturesAgreement.optional(),
  label: LabelDef,
  missingTokens: z.array(z.string()),
  inputs: z.array(z.string()).min(1),
  rows: z.number().int().nonnegative(),
  positives: z.number().int().nonnegative(),
});
export type Preprocessing = z.infer<typeof Preprocessing>;
