/**
 * @module
 * The operating point a clinical model is used at: a threshold on its score, chosen by the
 * consortium from pooled score histograms (Youden's J, a target sensitivity or a target
 * specificity), and what the model does there: sensitivity, specificity, PPV and NPV with their
 * 95 % Wilson intervals. Thresholds are bin edges, so every figure is exact from counts.
 */
import { z } from "zod";
import type { EvalCounts } from "./eval-counts.ts";
import { Interval } from "./interval.ts";
import { mergeCounts } from "./merge-counts.ts";
import { wilsonInterval } from "./wilson-interval.ts";

const Target = z.number().gt(0).lt(1);

/**
 * How the threshold is chosen: `youden` maximises sensitivity + specificity − 1; `sensitivity`
 * takes the highest threshold whose sensitivity reaches `target` (the most specific such);
 * `specificity` the lowest whose specificity reaches it (the most sensitive such).
 *
 * @example
 * OperatingPointRule.parse({ rule: "sensitivity", target: 0.9 });
 */
export const OperatingPointRule = z.discriminatedUnion("rule", [
  z.object({ rule: z.literal("youden") }),
  z.object({ rule: z.literal("sensitivity"), target: Target }),
  z.object({ rule: z.literal("specificity"), target: Target }),
]);
export type OperatingPointRule = z.infer<typeof OperatingPointRule>;

export const DEFAULT_OPERATING_POINT: OperatingPointRule = { rule: "youden" };

const Rate = z.number().min(0).max(1).nullable();

/** A model at one threshold: a rate is null where its denominator is zero. */
export const RatesAt = z.object({
  threshold: z.number().min(0).max(1),
  n: z.int().nonnegative(),
  sensitivity: Rate,
  specificity: Rate,
  ppv: Rate,
  npv: Rate,
  intervals: z.object({ sensitivity: Interval.nullable(), specificity: Interval.nullable(), ppv: Interval.nullable(), npv: Interval.nullable() }),
});
export type RatesAt = z.infer<typeof RatesAt>;

/** The threshold of bin edge `edge` of `bins` (scores at or above it are called positive). */
const thresholdOf = (edge: number, bins: number) => edge / bins;

/**
 * Sensitivity, specificity, PPV and NPV when a score at or above `threshold` is called positive,
 * exactly from the histograms (a threshold off a bin edge is moved down to the edge below it).
 */
export function ratesAt(pos: ArrayLike<number>, neg: ArrayLike<number>, threshold: number): RatesAt {
  const bins = pos.length;
  const edge = Math.min(bins, Math.max(0, Math.floor(threshold * bins + 1e-9)));
  let tp = 0;
  let fp = 0;
  let positives = 0;
  let negatives = 0;
  for (let i = 0; i < bins; i++) {
    positives += pos[i]!;
    negatives += neg[i]!;
    if (i >= edge) {
      tp += pos[i]!;
      fp += neg[i]!;
    }
  }
  const fn = positives - tp;
  const tn = negatives - fp;
  const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);
  return {
    threshold: thresholdOf(edge, bins),
    n: positives + negatives,
    sensitivity: ratio(tp, positives),
    specificity: ratio(tn, negatives),
    ppv: ratio(tp, tp + fp),
    npv: ratio(tn, tn + fn),
    intervals: { sensitivity: wilsonInterval(tp, positives), specificity: wilsonInterval(tn, negatives), ppv: wilsonInterval(tp, tp + fp), npv: wilsonInterval(tn, tn + fn) },
  };
}

/**
 * The threshold `rule` picks on these histograms (one of the bin edges 1/bins … (bins−1)/bins),
 * or null when they hold one class only (no curve to choose on) or no edge meets the target.
 *
 * @example
 * chooseThreshold(trainPos, trainNeg, { rule: "youden" }); // 0.231
 */
export function chooseThreshold(pos: ArrayLike<number>, neg: ArrayLike<number>, rule: OperatingPointRule): number | null {
  const bins = pos.length;
  let positives = 0;
  let negatives = 0;
  for (let i = 0; i < bins; i++) {
    positives += pos[i]!;
    negatives += neg[i]!;
  }
  if (positives === 0 || negatives === 0) return null;
  // From the top edge down: tp and fp count the rows at or above edge e.
  let tp = 0;
  let fp = 0;
  let best: { edge: number; j: number } | null = null;
  let lowestMeetingSpecificity: number | null = null;
  for (let e = bins - 1; e >= 1; e--) {
    tp += pos[e]!;
    fp += neg[e]!;
    const sensitivity = tp / positives;
    const specificity = (negatives - fp) / negatives;
    if (rule.rule === "youden") {
      const j = sensitivity + specificity - 1;
      // Strictly better only: among equal J the highest threshold (the fewest called positive) stands.
      if (best === null || j > best.j + 1e-12) best = { edge: e, j };
    } else if (rule.rule === "sensitivity") {
      if (sensitivity >= rule.target) return thresholdOf(e, bins);
    } else if (specificity >= rule.target) {
      lowestMeetingSpecificity = e;
    }
  }
  if (rule.rule === "youden") return best === null ? null : thresholdOf(best.edge, bins);
  return lowestMeetingSpecificity === null ? null : thresholdOf(lowestMeetingSpecificity, bins);
}

/** What a rule says, for people: "Youden's J", "sensitivity ≥ 0.90". */
export function describeRule(rule: OperatingPointRule): string {
  return rule.rule === "youden" ? "Youden's J" : `${rule.rule} ≥ ${rule.target.toFixed(2)}`;
}

/** Whether counts carry the histograms an operating point needs (both classes present). */
export const hasBothClasses = (c: EvalCounts): boolean => c.tp + c.fn > 0 && c.tn + c.fp > 0;

/**
 * The final global model at the consortium's operating point: the rule, the threshold it chose on
 * the sites' training rows pooled, and the model's rates at it on the held-out rows, pooled and at
 * each site, beside the same at 0.5.
 */
export const OperatingPoint = z.object({
  rule: OperatingPointRule,
  threshold: z.number().gt(0).lt(1),
  /** The training rows (and their sites) whose pooled scores the threshold was chosen on. */
  chosenOn: z.object({ rows: z.int().nonnegative(), sites: z.int().nonnegative() }),
  pooled: RatesAt,
  pooledAtHalf: RatesAt,
  sites: z.array(z.object({ siteId: z.string(), at: RatesAt, atHalf: RatesAt })),
});
export type OperatingPoint = z.infer<typeof OperatingPoint>;

/** What `operatingPoint` reads of a site's evaluation. */
export interface OperatingPointInput {
  readonly siteId: string;
  /** The final global model's counts on the site's held-out rows. */
  readonly global: EvalCounts;
  /** Its counts on the site's training rows. */
  readonly globalTrain?: EvalCounts;
}

/**
 * Chooses the threshold by `rule` on the training-row histograms pooled over the sites, and
 * measures the global model there on the held-out rows; null unless every site sent training-row
 * counts (one site alone must not set the consortium's threshold), or when their bins differ or
 * they hold one class only.
 *
 * @example
 * operatingPoint({ rule: "sensitivity", target: 0.9 }, status.evaluations)?.pooled.specificity;
 */
export function operatingPoint(rule: OperatingPointRule, evaluations: readonly OperatingPointInput[]): OperatingPoint | null {
  if (evaluations.length === 0 || !evaluations.every((e) => e.globalTrain)) return null;
  const training = evaluations.map((e) => e.globalTrain!);
  const bins = training[0]!.pos.length;
  const sameBins = (c: EvalCounts) => c.pos.length === bins && c.neg.length === bins;
  if (!training.every(sameBins)) return null;
  const merged = mergeCounts(training);
  const threshold = chooseThreshold(merged.pos, merged.neg, rule);
  if (threshold === null) return null;
  const held = evaluations.filter((e) => sameBins(e.global));
  if (held.length === 0) return null;
  const pooled = mergeCounts(held.map((e) => e.global));
  return {
    rule,
    threshold,
    chosenOn: { rows: merged.n, sites: training.length },
    pooled: ratesAt(pooled.pos, pooled.neg, threshold),
    pooledAtHalf: ratesAt(pooled.pos, pooled.neg, 0.5),
    sites: held.map((e) => ({ siteId: e.siteId, at: ratesAt(e.global.pos, e.global.neg, threshold), atHalf: ratesAt(e.global.pos, e.global.neg, 0.5) })),
  };
}

/** `youden`, `sensitivity:0.9` or `specificity:0.95` on the command line; null when it is none of them. */
export function parseOperatingPoint(text: string): OperatingPointRule | null {
  if (text === "youden") return { rule: "youden" };
  const m = /^(sensitivity|specificity):(0?\.\d+)$/.exec(text.trim());
  if (!m) return null;
  const parsed = OperatingPointRule.safeParse({ rule: m[1], target: Number(m[2]) });
  return parsed.success ? parsed.data : null;
}
