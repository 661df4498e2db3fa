import { z } from "zod";

/**
 * psi: a feature's distribution moved; shift: its mean moved, in pooled standard deviations;
 * prevalence: the label rate; missing: the missing rate (or readings refused as out of range);
 * unit: the values are another unit's; auroc: the champion ranks worse; calibration: its risks
 * are further from what is observed.
 */
export const DriftCheck = z.enum(["psi", "shift", "prevalence", "missing", "unit", "auroc", "calibration"]);
export type DriftCheck = z.infer<typeof DriftCheck>;

export const DriftFlag = z.object({
  siteId: z.string(),
  check: DriftCheck,
  feature: z.string().optional(),
  /**
   * psi: the index; shift: the standardised mean difference (current − reference); prevalence and
   * missing: the two-proportion z; unit: reference mean over current mean; auroc: the drop;
   * calibration: the rise of the expected calibration error.
   */
  score: z.number(),
  /** Names the site, the feature and the numbers, for a data steward to act on. */
  reason: z.string(),
  /** `watch`: worth a look, never acted on (a PSI in the moderate band); `act`: the policy decides. */
  severity: z.enum(["watch", "act"]),
});
export type DriftFlag = z.infer<typeof DriftFlag>;
