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

/** The one transform every site applies, derived from the consortium's pooled statistics. */
export const Preprocessing = z.object({
  features: z.array(FeatureTransform).min(1),
  label: LabelDef,
  missingTokens: z.array(z.string()),
  inputs: z.array(z.string()).min(1),
  rows: z.number().int().nonnegative(),
  positives: z.number().int().nonnegative(),
});
export type Preprocessing = z.infer<typeof Preprocessing>;
