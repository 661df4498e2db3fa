/**
 * @module
 * What a site may share about a K-class model on its rows, and the clinical metrics pooled from it,
 * exactly: a K×K confusion matrix (true class by predicted class, the predicted class being the
 * most probable one) and, for each class, the score histograms of that class's probability among
 * the rows of the class and among the others, from which one-vs-rest AUROC follows as in the binary
 * case. Counts, never scores or rows. The binary path (`count-predictions.ts`) is unchanged; this is
 * the counting multiclass models will report.
 */
import { z } from "zod";
import { aurocFromHistogram } from "./auroc.ts";
import { DEFAULT_BINS, MAX_BINS, MIN_BINS } from "./eval-counts.ts";
import { Interval } from "./interval.ts";
import { MetricsError } from "./metrics-error.ts";
import { wilsonInterval } from "./wilson-interval.ts";

/**
 * Bins a site's K-class histograms have: 2·K histograms per model where a binary model has two, so
 * coarser than the binary `DEFAULT_BINS` to keep an evaluation of 10 classes near a binary one's
 * size. One-vs-rest AUROC counts rows in one bin as ties (half), so it is exact for scores binned
 * to 0.01.
 */
export const MULTICLASS_BINS = 100;

/** Most classes a model may have: a bound on what one site's counts hold (K² + 2·K·bins numbers). */
export const MAX_CLASSES = 100;

const Count = z.int().nonnegative();

/**
 * One site's (or the pooled) counts of a K-class model: `confusion[t][p]` rows of true class t
 * predicted as p; `pos[c]` / `neg[c]` the histogram, over `bins` equal-width bins of [0, 1], of
 * class c's probability among rows of class c / of any other class.
 */
export const MulticlassCounts = z
  .object({
    k: z.int().min(2).max(MAX_CLASSES),
    n: Count,
    confusion: z.array(z.array(Count)),
    pos: z.array(z.array(Count).min(MIN_BINS).max(MAX_BINS)),
    neg: z.array(z.array(Count).min(MIN_BINS).max(MAX_BINS)),
  })
  .superRefine((c, ctx) => {
    const fail = (message: string) => ctx.addIssue({ code: "custom", message });
    if (c.confusion.length !== c.k || c.confusion.some((row) => row.length !== c.k)) return fail(`confusion must be ${c.k}×${c.k}`);
    if (c.pos.length !== c.k || c.neg.length !== c.k) return fail(`pos and neg need one histogram per class (${c.k})`);
    const bins = c.pos[0]!.length;
    if ([...c.pos, ...c.neg].some((h) => h.length !== bins)) return fail("every histogram must have the same bins");
    const total = c.confusion.flat().reduce((a, b) => a + b, 0);
    if (total !== c.n) return fail(`n = ${c.n} but the confusion matrix holds ${total}`);
    for (let cls = 0; cls < c.k; cls++) {
      const inClass = c.confusion[cls]!.reduce((a, b) => a + b, 0);
      const inPos = c.pos[cls]!.reduce((a, b) => a + b, 0);
      const inNeg = c.neg[cls]!.reduce((a, b) => a + b, 0);
      if (inPos !== inClass || inPos + inNeg !== c.n) fail(`class ${cls}'s histograms hold ${inPos} + ${inNeg} rows, its confusion row ${inClass} of ${c.n}`);
    }
  });
export type MulticlassCounts = z.infer<typeof MulticlassCounts>;

/**
 * Counts `probs` (rows × k, each row the classes' probabilities) against `labels` (0 … k−1).
 *
 * @example
 * countMulticlass(Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.1, 0.8]), Uint8Array.from([0, 2]), 3);
 */
export function countMulticlass(probs: ArrayLike<number>, labels: ArrayLike<number>, k: number, bins: number = DEFAULT_BINS): MulticlassCounts {
  if (!Number.isInteger(k) || k < 2 || k > MAX_CLASSES) throw new MetricsError("INVALID_PREDICTIONS", `k must be a whole number from 2 to ${MAX_CLASSES}, got ${k}`);
  if (probs.length !== labels.length * k) throw new MetricsError("INVALID_PREDICTIONS", `${probs.length} probabilities for ${labels.length} rows of ${k} classes`);
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const pos = Array.from({ length: k }, () => new Array<number>(bins).fill(0));
  const neg = Array.from({ length: k }, () => new Array<number>(bins).fill(0));
  for (let r = 0; r < labels.length; r++) {
    const label = labels[r]!;
    if (!Number.isInteger(label) || label < 0 || label >= k) throw new MetricsError("INVALID_PREDICTIONS", `labels[${r}] = ${label} is not a class of ${k}`);
    let predicted = 0;
    for (let c = 0; c < k; c++) {
      const p = probs[r * k + c]!;
      // Written so that NaN fails too.
      if (!(p >= 0 && p <= 1)) throw new MetricsError("INVALID_PREDICTIONS", `probs[${r}][${c}] = ${p} is not a number in [0, 1]`);
      // The most probable class; the first among equals.
      if (p > probs[r * k + predicted]!) predicted = c;
      const bin = Math.min(bins - 1, Math.floor(p * bins));
      (c === label ? pos : neg)[c]![bin]! += 1;
    }
    confusion[label]![predicted]! += 1;
  }
  return { k, n: labels.length, confusion, pos, neg };
}

/** Sums sites' counts; every one must have the same classes and bins. */
export function mergeMulticlass(list: readonly MulticlassCounts[]): MulticlassCounts {
  const first = list[0];
  if (!first) throw new MetricsError("INVALID_PREDICTIONS", "nothing to merge");
  const bins = first.pos[0]!.length;
  for (const c of list) {
    if (c.k !== first.k || c.pos[0]!.length !== bins) throw new MetricsError("BINS_MISMATCH", `counts of ${c.k} classes and ${c.pos[0]!.length} bins cannot be merged with ${first.k} classes and ${bins} bins`);
  }
  const add = (a: number[][], b: number[][]) => a.map((row, i) => row.map((v, j) => v + b[i]![j]!));
  return list.slice(1).reduce((acc, c) => ({ k: acc.k, n: acc.n + c.n, confusion: add(acc.confusion, c.confusion), pos: add(acc.pos, c.pos), neg: add(acc.neg, c.neg) }), {
    k: first.k, n: first.n, confusion: first.confusion.map((r) => [...r]), pos: first.pos.map((r) => [...r]), neg: first.neg.map((r) => [...r]),
  });
}

const Rate = z.number().min(0).max(1).nullable();

/** A K-class model's metrics; a rate is null where its denominator is zero (a class absent, or only one class present). */
export const MulticlassMetrics = z.object({
  n: z.int().nonnegative(),
  accuracy: Rate,
  classes: z.array(z.object({ prevalence: Rate, sensitivity: Rate, specificity: Rate, auroc: Rate })),
  /** The mean of the classes' one-vs-rest AUROC, over the classes that have one. */
  macroAuroc: Rate,
});
export type MulticlassMetrics = z.infer<typeof MulticlassMetrics>;

/** Accuracy, each class's one-vs-rest sensitivity, specificity and AUROC, and the macro AUROC, exactly from counts. */
export function multiclassMetrics(c: MulticlassCounts): MulticlassMetrics {
  const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);
  const rowSum = (t: number) => c.confusion[t]!.reduce((a, b) => a + b, 0);
  const colSum = (p: number) => c.confusion.reduce((a, row) => a + row[p]!, 0);
  let correct = 0;
  for (let t = 0; t < c.k; t++) correct += c.confusion[t]![t]!;
  const classes = Array.from({ length: c.k }, (_, cls) => {
    const actual = rowSum(cls);
    const tp = c.confusion[cls]![cls]!;
    const fp = colSum(cls) - tp;
    const negatives = c.n - actual;
    return { prevalence: ratio(actual, c.n), sensitivity: ratio(tp, actual), specificity: ratio(negatives - fp, negatives), auroc: aurocFromHistogram(c.pos[cls]!, c.neg[cls]!) };
  });
  const defined = classes.flatMap((x) => (x.auroc === null ? [] : [x.auroc]));
  return { n: c.n, accuracy: ratio(correct, c.n), classes, macroAuroc: defined.length === 0 ? null : defined.reduce((a, b) => a + b, 0) / defined.length };
}

/** The metrics with what a reader checks them against: the pooled confusion matrix and accuracy's 95 % Wilson interval. */
export const MulticlassSummary = MulticlassMetrics.extend({
  confusion: z.array(z.array(z.int().nonnegative())),
  accuracyInterval: Interval.nullable(),
});
export type MulticlassSummary = z.infer<typeof MulticlassSummary>;

/** `multiclassMetrics` with the confusion matrix and the accuracy's interval. */
export function multiclassSummary(c: MulticlassCounts): MulticlassSummary {
  const m = multiclassMetrics(c);
  let correct = 0;
  for (let t = 0; t < c.k; t++) correct += c.confusion[t]![t]!;
  return { ...m, confusion: c.confusion.map((row) => [...row]), accuracyInterval: wilsonInterval(correct, c.n) };
}
