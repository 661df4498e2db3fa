import { z } from "zod";
import { MAX_HISTOGRAM_BINS, RESERVED_FEATURE_NAMES } from "./feature-spec.ts";
import { ownRecord } from "./own-record.ts";
import { SiteCount } from "./site-count.ts";

const count = SiteCount;

/** Running moments of one numeric feature (count, mean, sum of squared deviations). */
export const NumericStats = z.object({
  kind: z.literal("numeric"),
  count,
  mean: z.number(),
  m2: z.number().nonnegative(),
  missing: count,
  /** Values that are exactly 0 (among `count`), for the data-quality checks; absent from older sites. */
  zeros: count.optional(),
  /**
   * Readings the site's data model refused as outside the feature's allowed range (FHIR sources),
   * and their mean in the feature's unit: a unit error shows here rather than in `mean`.
   */
  outOfRange: z.object({ count, mean: z.number() }).optional(),
  /**
   * Counts of the values in equal bins over the feature's declared range (values below or above
   * it in the first or last bin), when the spec declares one: merged, they give the median.
   */
  histogram: z.array(count).min(2).max(MAX_HISTOGRAM_BINS).optional(),
});
export type NumericStats = z.infer<typeof NumericStats>;

export const CategoricalStats = z.object({
  kind: z.literal("categorical"),
  /** A level may be called anything a column holds ("constructor" too) but `__proto__`, which no object keeps. */
  counts: ownRecord(z.string(), count),
  missing: count,
});
export type CategoricalStats = z.infer<typeof CategoricalStats>;

export const FeatureStats = z.discriminatedUnion("kind", [NumericStats, CategoricalStats]);
export type FeatureStats = z.infer<typeof FeatureStats>;

/** What a site tells the consortium about its training rows: sums, never records. */
export const SiteStats = z.object({
  rows: count,
  positives: count,
  features: ownRecord(z.string(), FeatureStats, RESERVED_FEATURE_NAMES),
});
export type SiteStats = z.infer<typeof SiteStats>;
