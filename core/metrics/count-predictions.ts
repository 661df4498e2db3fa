import { ConfigError } from "../errors.ts";
import { CONFUSION_THRESHOLD, DEFAULT_BINS, MAX_BINS, MIN_BINS, type EvalCounts } from "./eval-counts.ts";
import { MetricsError } from "./metrics-error.ts";

/**
 * Reduces one site's scores and 0/1 labels to the counts it may share: a per-class histogram of
 * `bins` equal-width bins over [0, 1] and confusion counts at a score of 0.5 (inclusive).
 *
 * @example
 * countPredictions(new Float64Array([0.2, 0.5]), new Uint8Array([0, 1]), 4);
 * // { n: 2, tp: 1, fp: 0, tn: 1, fn: 0, pos: [0, 0, 1, 0], neg: [1, 0, 0, 0] }
 */
export function countPredictions(
  scores: Float32Array | Float64Array,
  labels: Uint8Array,
  bins: number = DEFAULT_BINS,
): EvalCounts {
  if (!Number.isInteger(bins) || bins < MIN_BINS || bins > MAX_BINS) {
    throw new ConfigError(`bins must be an integer between ${MIN_BINS} and ${MAX_BINS}, got ${bins}`);
  }
  if (scores.length !== labels.length) {
    throw new MetricsError("INVALID_PREDICTIONS", `${scores.length} scores but ${labels.length} labels`);
  }
  const pos = new Array<number>(bins).fill(0);
  const neg = new Array<number>(bins).fill(0);
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i]!;
    const label = labels[i]!;
    // Written so that NaN fails too.
    if (!(score >= 0 && score <= 1)) {
      throw new MetricsError("INVALID_PREDICTIONS", `scores[${i}] = ${score} is not a number in [0, 1]`);
    }
    if (label > 1) throw new MetricsError("INVALID_PREDICTIONS", `labels[${i}] = ${label} is not 0 or 1`);
    const bin = Math.min(bins - 1, Math.floor(score * bins));
    const predicted = score >= CONFUSION_THRESHOLD;
    if (label === 1) {
      pos[bin]! += 1;
      if (predicted) c.tp += 1;
      else c.fn += 1;
    } else {
      neg[bin]! += 1;
      if (predicted) c.fp += 1;
      else c.tn += 1;
    }
  }
  return { n: scores.length, ...c, pos, neg };
}
