import { z } from "zod";

/** Most histogram bins a numeric feature may ask of the sites. */
export const MAX_HISTOGRAM_BINS = 4096;

/** Names that would shadow an object's own machinery where features are looked up by name. */
export const RESERVED_FEATURE_NAMES = ["__proto__", "constructor", "prototype"];

/** One model input, read from one source column. */
export const FeatureDef = z
  .object({
    name: z
      .string()
      .min(1)
      .refine((n) => !RESERVED_FEATURE_NAMES.includes(n), { message: `a feature cannot be named ${RESERVED_FEATURE_NAMES.join(", ")}` }),
    column: z.string().min(1),
    type: z.enum(["numeric", "categorical"]),
    /** Values that mean "not measured" for this column only (e.g. cholesterol recorded as 0). */
    missing: z.array(z.string()).default([]),
    /**
     * What stands in for a missing value: the consortium's mean or median (numeric; mean by
     * default) or its most frequent level (categorical, the only choice there).
     */
    impute: z.enum(["mean", "median", "mode"]).optional(),
    /**
     * Numeric: where the values are expected. Sites then count their values in `bins` equal bins
     * over it (values outside in the end bins), which gives the consortium its median.
     */
    range: z
      .object({ min: z.number().finite(), max: z.number().finite() })
      .refine((r) => r.min < r.max, { message: "range min must be below max" })
      .refine((r) => Number.isFinite(r.max - r.min), { message: "range too wide: max − min must be a finite number" })
      .optional(),
    bins: z.number().int().min(2).max(MAX_HISTOGRAM_BINS).optional(),
    /**
     * Categorical: the levels the consortium expects. Needed when sites add noise to their
     * statistics (a level only one patient has would otherwise show by its name); values outside
     * them are then counted as missing.
     */
    levels: z.array(z.string()).min(1).optional(),
    /** Numeric: the unit the consortium's values are in (`mg/dL`); a site whose column carries another unit is refused. */
    unit: z.string().min(1).max(32).optional(),
  })
  .superRefine((f, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (f.type === "categorical" && (f.impute ?? "mode") !== "mode") issue("impute", "a categorical feature is imputed with its mode");
    if (f.type === "numeric" && f.impute === "mode") issue("impute", "a numeric feature is imputed with its mean or median");
    if (f.impute === "median" && f.range === undefined) issue("range", "median imputation needs the feature's range (the sites' histogram spans it)");
    if (f.type === "categorical" && (f.range !== undefined || f.bins !== undefined)) issue("range", "range and bins apply to numeric features");
    if (f.bins !== undefined && f.range === undefined) issue("bins", "bins need a range");
    if (f.type === "numeric" && f.levels !== undefined) issue("levels", "levels apply to categorical features");
    if (f.type === "categorical" && f.unit !== undefined) issue("unit", "a unit applies to numeric features");
  });
export type FeatureDef = z.infer<typeof FeatureDef>;

/** Cells that mean "not recorded" unless a spec or a flag says otherwise. */
export const DEFAULT_MISSING_TOKENS: readonly string[] = ["", "NA", "?"];

/** Histogram bins over a feature's range when the spec does not say. */
export const DEFAULT_HISTOGRAM_BINS = 512;

/** A class value as label values compare (`labelKey`): trimmed, numbers canonical, case folded. */
function classKey(value: string): string {
  const t = value.trim();
  return (t !== "" && Number.isFinite(Number(t)) ? String(Number(t)) : t).toLowerCase();
}

/**
 * How the label column becomes 0/1: listed values, or any number above a threshold. Values compare
 * without regard to case or surrounding space ("YES" is "yes"). With `negative` listed too, a
 * value in neither list is not a label: the row is left out (and counted), not read as negative.
 * Or, for a K-class outcome, `classes`: the K values (3 to 100), class i being the i-th; a value
 * not listed is not a label. The first class is the reference (the normal finding): statistics
 * count the rows of every other class as positive, for the prevalence checks.
 */
export const LabelDef = z
  .object({
    column: z.string().min(1),
    positive: z.array(z.string()).min(1).optional(),
    negative: z.array(z.string()).min(1).optional(),
    positiveAbove: z.number().optional(),
    classes: z.array(z.string().refine((c) => c.trim() !== "", "a class cannot be blank")).min(3, "classes needs at least 3 values (2 classes are positive and negative)").max(100).optional(),
  })
  .refine((l) => [l.positive, l.positiveAbove, l.classes].filter((x) => x !== undefined).length === 1, {
    message: "label needs exactly one of positive, positiveAbove or classes",
  })
  .refine((l) => l.negative === undefined || l.positive !== undefined, { message: "negative goes with positive" })
  .refine((l) => l.classes === undefined || new Set(l.classes.map(classKey)).size === l.classes.length, { message: "classes must be distinct" });
export type LabelDef = z.infer<typeof LabelDef>;

/** The consortium's agreed inputs: every site maps its columns onto this. */
export const FeatureSpec = z
  .object({
    features: z.array(FeatureDef).min(1),
    label: LabelDef,
    missingTokens: z.array(z.string()).default([...DEFAULT_MISSING_TOKENS]),
    /**
     * Share of the sites that must provide a feature (have at least one value of it) for the
     * consortium to use it; the others impute it. Default 0.5.
     */
    quorum: z.number().min(0).max(1).optional(),
  })
  .refine((s) => new Set(s.features.map((f) => f.name)).size === s.features.length, {
    message: "feature names must be unique",
  })
  // A class spelled as a missing token could never be read: its rows would all be "no label".
  .refine((s) => !(s.label.classes ?? []).some((c) => s.missingTokens.includes(c.trim())), { message: "a label class cannot be one of the missing tokens", path: ["label", "classes"] });
export type FeatureSpec = z.infer<typeof FeatureSpec>;
