import { z } from "zod";
import { CONFUSION_THRESHOLD } from "../metrics/eval-counts.ts";

/**
 * The promotion gate's rules as config, defaults filled in. `aurocMargin`: how far the pooled
 * AUROC may fall below the champion's (and how far the champion's may fall below its own at
 * promotion before it counts as degraded). `sensitivityDrop`: how far any site's sensitivity at
 * `threshold` may fall; a site needs `minPositives` positives to be judged (a sensitivity on
 * fewer moves by more than the drop when one positive flips). `eceMargin`: how far the pooled
 * ECE may rise over the champion's, measured on the same rows, so case mix cancels; `maxEce`, an
 * absolute cap, applies to first versions too. `replaceDegraded`: a degraded champion gives way
 * to a candidate that passes every rule without beating it.
 *
 * @example
 * const policy = GatePolicy.parse({ aurocMargin: 0.01 });
 */
export const GatePolicy = z.object({
  aurocMargin: z.number().min(0).max(0.5).default(0.005),
  sensitivityDrop: z.number().min(0).max(1).default(0.05),
  threshold: z.number().gt(0).lt(1).default(CONFUSION_THRESHOLD),
  minPositives: z.int().min(1).default(20),
  eceMargin: z.number().min(0).max(1).default(0.02),
  maxEce: z.number().min(0).max(1).optional(),
  replaceDegraded: z.boolean().default(true),
});
export type GatePolicy = z.infer<typeof GatePolicy>;
