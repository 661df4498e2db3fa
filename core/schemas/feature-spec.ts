import { z } from "zod";

/** One model input, read from one source column. */
export const FeatureDef = z.object({
  name: z.string().min(1),
  column: z.string().min(1),
  type: z.enum(["numeric", "categorical"]),
  /** Values that mean "not measured" for this column only (e.g. cholesterol recorded as 0). */
  missing: z.array(z.string()).default([]),
});
export type FeatureDef = z.infer<typeof FeatureDef>;

/** How the label column becomes 0/1: listed values, or any number above a threshold. */
export const LabelDef = z
  .object({
    column: z.string().min(1),
    positive: z.array(z.string()).optional(),
    positiveAbove: z.number().optional(),
  })
  .refine((l) => (l.positive === undefined) !== (l.positiveAbove === undefined), {
    message: "label needs exactly one of positive or positiveAbove",
  });
export type LabelDef = z.infer<typeof LabelDef>;

/** The consortium's agreed inputs: every site maps its columns onto this. */
export const FeatureSpec = z
  .object({
    features: z.array(FeatureDef).min(1),
    label: LabelDef,
    missingTokens: z.array(z.string()).default(["", "NA", "?"]),
  })
  .refine((s) => new Set(s.features.map((f) => f.name)).size === s.features.length, {
    message: "feature names must be unique",
  });
export type FeatureSpec = z.infer<typeof FeatureSpec>;
