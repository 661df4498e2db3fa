/**
 * @module
 * What a site reports about one model on one dataset: confusion counts at a 0.5 threshold and a
 * per-class score histogram. Counts, never scores or records, so pooled metrics stay exact.
 */
import { z } from "zod";

/** Default number of equal-width score bins over [0, 1]. */
export const DEFAULT_BINS = 1000;
/** Fewest bins a histogram may have. */
export const MIN_BINS = 2;
/** Most bins a histogram may have; bounds the size of a manifest. */
export const MAX_BINS = 100_000;
/** A score at or above this counts as a positive prediction in the confusion counts. */
export const CONFUSION_THRESHOLD = 0.5;

const Count = z.int().nonnegative();
const Histogram = z
  .array(Count)
  .min(MIN_BINS, `histogram must have at least ${MIN_BINS} bins`)
  .max(MAX_BINS, `histogram must have at most ${MAX_BINS} bins`);

const sum = (xs: readonly number[], from = 0, to = xs.length): number =>
  xs.slice(from, to).reduce((a, b) => a + b, 0);

/**
 * One site's evaluation counts; `pos[i]` / `neg[i]` count positives / negatives whose score falls
 * in bin `i` of `pos.length` equal-width bins over [0, 1].
 *
 * @example
 * const counts = EvalCounts.parse(JSON.parse(body));
 */
export const EvalCounts = z
  .object({ n: Count, tp: Count, fp: Count, tn: Count, fn: Count, pos: Histogram, neg: Histogram })
  .superRefine((c, ctx) => {
    const fail = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    const positives = sum(c.pos);
    const negatives = sum(c.neg);
    const total = c.tp + c.fp + c.tn + c.fn;
    if (c.neg.length !== c.pos.length) fail("neg", `neg has ${c.neg.length} bins but pos has ${c.pos.length}`);
    if (c.tp + c.fn !== positives) fail("pos", `tp + fn = ${c.tp + c.fn} but pos holds ${positives}`);
    if (c.fp + c.tn !== negatives) fail("neg", `fp + tn = ${c.fp + c.tn} but neg holds ${negatives}`);
    if (c.n !== total) fail("n", `n = ${c.n} but tp + fp + tn + fn = ${total}`);
    // Bins above the one holding 0.5 are all predicted positive; with even bins 0.5 opens a bin.
    const bins = c.pos.length;
    const half = Math.floor(bins * CONFUSION_THRESHOLD);
    const surePos = sum(c.pos, bins % 2 === 0 ? half : half + 1);
    const sureNeg = sum(c.neg, bins % 2 === 0 ? half : half + 1);
    if (c.tp < surePos || c.tp > sum(c.pos, half)) fail("tp", `tp = ${c.tp} disagrees with the pos histogram`);
    if (c.fp < sureNeg || c.fp > sum(c.neg, half)) fail("fp", `fp = ${c.fp} disagrees with the neg histogram`);
  });
export type EvalCounts = z.infer<typeof EvalCounts>;
