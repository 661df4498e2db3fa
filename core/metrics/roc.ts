/**
 * @module
 * The ROC curve from per-class score histograms over the same bins: one point per bin edge, from
 * (0, 0) (every row called negative) to (1, 1), thresholds falling from the top bin. The
 * trapezoids under it are exactly `aurocFromHistogram` (a tie within a bin counts half, as a
 * straight segment across the bin does).
 */
import { MetricsError } from "./metrics-error.ts";

export interface RocPoint {
  /** False-positive rate at this threshold. */
  readonly fpr: number;
  /** True-positive rate at this threshold. */
  readonly tpr: number;
  /** Scores at or above this are called positive. */
  readonly threshold: number;
}

/**
 * @example
 * rocCurve([0, 1, 1], [1, 1, 0]); // (0,0) → (0,0.5) → (0.5,1) → (1,1)
 */
export function rocCurve(pos: ArrayLike<number>, neg: ArrayLike<number>): RocPoint[] | null {
  if (pos.length !== neg.length) throw new MetricsError("BINS_MISMATCH", `pos has ${pos.length} bins but neg has ${neg.length}`);
  const bins = pos.length;
  let positives = 0;
  let negatives = 0;
  for (let i = 0; i < bins; i++) {
    positives += pos[i]!;
    negatives += neg[i]!;
  }
  if (positives === 0 || negatives === 0) return null;
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: 1 }];
  let tp = 0;
  let fp = 0;
  for (let i = bins - 1; i >= 0; i--) {
    tp += pos[i]!;
    fp += neg[i]!;
    points.push({ fpr: fp / negatives, tpr: tp / positives, threshold: i / bins });
  }
  return points;
}

/** The area under the curve by trapezoids. */
export const areaUnder = (points: readonly RocPoint[]): number =>
  points.slice(1).reduce((area, p, i) => area + ((p.fpr - points[i]!.fpr) * (p.tpr + points[i]!.tpr)) / 2, 0);
