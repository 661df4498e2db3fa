import type { EvalCounts } from "../metrics/eval-counts.ts";
import { CONFUSION_THRESHOLD } from "../metrics/eval-counts.ts";
import { ratesAt } from "../metrics/operating-point.ts";
import { RegistryError } from "./registry-error.ts";

/** Sensitivity and specificity when a score at or above a threshold is called positive. */
export interface Rates {
  readonly sensitivity: number | null;
  readonly specificity: number | null;
}

/**
 * Sensitivity and specificity at `threshold`, exactly: from the confusion counts at 0.5, else
 * from the histograms, which resolve only thresholds on a bin edge (any multiple of 0.001 at the
 * default 1000 bins). A rate is `null` when its class is absent.
 *
 * @example
 * ratesAtThreshold(counts, 0.2).sensitivity; // positives scoring ≥ 0.2, over all positives
 */
export function ratesAtThreshold(c: EvalCounts, threshold: number = CONFUSION_THRESHOLD): Rates {
  const positives = c.tp + c.fn;
  const negatives = c.tn + c.fp;
  const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);
  if (threshold === CONFUSION_THRESHOLD) return { sensitivity: ratio(c.tp, positives), specificity: ratio(c.tn, negatives) };
  const bins = c.pos.length;
  const edge = Math.round(threshold * bins);
  // A threshold such as 0.2 is 200.00000000000003 bins at 1000: within a hair of an edge it is on it.
  if (Math.abs(threshold * bins - edge) > 1e-9 * bins) {
    throw new RegistryError("THRESHOLD_OFF_BIN_EDGE", `threshold ${threshold} falls inside a bin of ${bins}; the histograms resolve only multiples of 1/${bins}`);
  }
  const { sensitivity, specificity } = ratesAt(c.pos, c.neg, edge / bins);
  return { sensitivity, specificity };
}
