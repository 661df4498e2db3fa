/**
 * The promotion gate's rules, one function each: every verdict carries the numbers it compared
 * and a sentence naming them.
 */
import { aurocFromHistogram } from "../metrics/auroc.ts";
import { hanleyMcNeilVariance } from "../metrics/auroc-interval.ts";
import { delongVariance } from "../metrics/delong-variance.ts";
import type { EvalCounts } from "../metrics/eval-counts.ts";
import type { GateRule, SiteJudgement } from "./gate-decision.ts";
import type { GatePolicy } from "./gate-policy.ts";
import type { ModelEvaluation } from "./model-evaluation.ts";
import { ratesAtThreshold } from "./rates-at-threshold.ts";

// Margins are compared on differences of floats: 0.9 − 0.895 is 0.0050000000000000044, not above 0.005.
const EPS = 1e-12;
const exceeds = (x: number, bound: number) => x > bound + EPS;
const f3 = (x: number) => x.toFixed(3);
// A change that rounds to 0.000 reads as none; `numbers` keeps its exact value.
const change = (x: number) => (Math.abs(x) < 5e-4 ? "unchanged" : x < 0 ? `down ${f3(-x)}` : `up ${f3(x)}`);
const ONE_CLASS = "undefined: the pooled rows hold one class";

/** A first version (no champion) must beat chance: AUROC and its interval's lower bound above 0.5. */
export function chanceRule(candidate: ModelEvaluation): GateRule {
  const { auroc, aurocInterval: interval } = candidate;
  const numbers = { candidate: auroc, lower: interval?.[0] ?? null, upper: interval?.[1] ?? null };
  if (auroc === null || interval === null) return { rule: "chance", passed: false, numbers, reason: `pooled AUROC ${ONE_CLASS}` };
  const passed = auroc > 0.5 && interval[0] > 0.5;
  const stated = `pooled AUROC ${f3(auroc)} with 95 % interval ${f3(interval[0])}–${f3(interval[1])}`;
  const verdict = passed ? ", above chance (0.5)" : auroc > 0.5 ? ": its lower bound is not above chance (0.5)" : ": not above chance (0.5)";
  return { rule: "chance", passed, numbers, reason: stated + verdict };
}

/**
 * A first version must also beat chance within the sites, not only across them: pooled rows can
 * separate sites with different prevalences while each site's patients are not told apart. The
 * stratified AUROC (each site's AUROC weighted by its positive × negative pairs, as the stratified
 * Mann–Whitney statistic is) with its DeLong variances summed (sites are independent; Hanley &
 * McNeil's where DeLong's is undefined) must have its 95 % lower bound above 0.5.
 */
export function withinSiteRule(sites: readonly EvalCounts[]): GateRule {
  let weight = 0;
  let sum = 0;
  let variance = 0;
  for (const c of sites) {
    const positives = c.pos.reduce((a, b) => a + b, 0);
    const negatives = c.neg.reduce((a, b) => a + b, 0);
    const a = aurocFromHistogram(c.pos, c.neg);
    if (a === null) continue;
    const w = positives * negatives;
    const v = delongVariance(c.pos, c.neg) ?? hanleyMcNeilVariance(a, positives, negatives);
    weight += w;
    sum += w * a;
    variance += w * w * v;
  }
  if (weight === 0) return { rule: "within-site", passed: false, numbers: { stratified: null, lower: null }, reason: "within-site AUROC undefined: no site holds both classes" };
  const stratified = sum / weight;
  const lower = stratified - 1.959964 * Math.sqrt(variance / (weight * weight));
  const passed = stratified > 0.5 && lower > 0.5;
  const stated = `AUROC within sites ${f3(stratified)} (lower 95 % bound ${f3(lower)})`;
  return { rule: "within-site", passed, numbers: { stratified, lower }, reason: stated + (passed ? ", above chance" : ": not above chance (0.5): the model does not tell a site's patients apart") };
}

/** Candidate and champion are compared on the same rows: the sites that evaluated both. */
export function comparableRule(sites: readonly string[], leftOut: readonly string[]): GateRule {
  const numbers = { sites: sites.length, leftOut: leftOut.length };
  const without = leftOut.length === 0 ? "" : `; left out ${leftOut.join(", ")} (evaluated one model only)`;
  if (sites.length === 0) return { rule: "comparable", passed: false, numbers, reason: `no site evaluated both the candidate and the champion${without}` };
  return { rule: "comparable", passed: true, numbers, reason: `compared at ${sites.length} site${sites.length === 1 ? "" : "s"}: ${sites.join(", ")}${without}` };
}

/** The pooled AUROC may fall below the champion's by at most the margin. */
export function pooledAurocRule(candidate: ModelEvaluation, champion: ModelEvaluation, policy: GatePolicy): GateRule {
  const a = candidate.auroc;
  const b = champion.auroc;
  const numbers = { candidate: a, champion: b, change: a !== null && b !== null ? a - b : null, margin: policy.aurocMargin };
  if (a === null || b === null) return { rule: "pooled-auroc", passed: false, numbers, reason: `pooled AUROC ${ONE_CLASS}` };
  const passed = !exceeds(b - a, policy.aurocMargin);
  const verdict = passed ? (a >= b ? "" : `, within the margin ${policy.aurocMargin}`) : `, more than the margin ${policy.aurocMargin}`;
  return { rule: "pooled-auroc", passed, numbers, reason: `pooled AUROC ${f3(a)} against the champion's ${f3(b)}: ${change(a - b)}${verdict}` };
}

/** No judged site's sensitivity at the threshold may fall by more than the drop. */
export function siteSensitivityRule(
  sites: readonly string[],
  candidate: Readonly<Record<string, EvalCounts>>,
  champion: Readonly<Record<string, EvalCounts>>,
  policy: GatePolicy,
): GateRule {
  const judgements = sites.map((siteId) => judgeSite(siteId, candidate[siteId]!, champion[siteId]!, policy));
  const failed = judgements.filter((j) => j.passed === false);
  const unjudged = judgements.filter((j) => j.passed === null);
  const changes = judgements.map((j) => j.numbers.change).filter((x): x is number => typeof x === "number");
  const numbers = {
    judged: judgements.length - unjudged.length,
    notJudged: unjudged.length,
    worstChange: changes.length === 0 ? null : Math.min(...changes),
    drop: policy.sensitivityDrop,
    threshold: policy.threshold,
    minPositives: policy.minPositives,
  };
  const at = `sensitivity at ${policy.threshold}`;
  const head = failed.length > 0
    ? `${at} down by more than ${policy.sensitivityDrop} at ${failed.map((j) => j.reason).join("; ")}`
    : numbers.judged === 0
      ? `${at} not judged at any site`
      : `${at} down by at most ${policy.sensitivityDrop} at every judged site (worst ${change(numbers.worstChange ?? 0)})`;
  const tail = unjudged.length === 0 ? "" : `; not judged: ${unjudged.map((j) => j.reason).join("; ")}`;
  return { rule: "site-sensitivity", passed: failed.length === 0, numbers, reason: head + tail, sites: judgements };
}

function judgeSite(siteId: string, candidate: EvalCounts, champion: EvalCounts, policy: GatePolicy): SiteJudgement {
  const positives = Math.min(candidate.tp + candidate.fn, champion.tp + champion.fn);
  const a = ratesAtThreshold(candidate, policy.threshold).sensitivity;
  const b = ratesAtThreshold(champion, policy.threshold).sensitivity;
  if (a === null || b === null || positives < policy.minPositives) {
    return { siteId, passed: null, numbers: { positives, candidate: a, champion: b }, reason: `${siteId} (${positives} positives, fewer than ${policy.minPositives})` };
  }
  const passed = !exceeds(b - a, policy.sensitivityDrop);
  return { siteId, passed, numbers: { positives, candidate: a, champion: b, change: a - b }, reason: `${siteId}: ${f3(a)} against the champion's ${f3(b)}, ${change(a - b)}` };
}

/** The pooled ECE may rise over the champion's by at most the margin, and stay under the cap if one is set. */
export function calibrationRule(candidate: ModelEvaluation, champion: ModelEvaluation | null, policy: GatePolicy): GateRule {
  const a = candidate.calibration.ece;
  const b = champion?.calibration.ece ?? null;
  const numbers = { candidate: a, champion: b, change: a !== null && b !== null ? a - b : null, margin: policy.eceMargin, max: policy.maxEce ?? null };
  if (a === null || (champion !== null && b === null)) return { rule: "calibration", passed: false, numbers, reason: "pooled ECE undefined: no rows" };
  const failures: string[] = [];
  const parts: string[] = [];
  if (b !== null) {
    const worse = exceeds(a - b, policy.eceMargin);
    parts.push(`pooled ECE ${f3(a)} against the champion's ${f3(b)}: ${change(a - b)}, ${worse ? "more than" : "within"} the margin ${policy.eceMargin}`);
    if (worse) failures.push("margin");
  }
  if (policy.maxEce !== undefined) {
    const over = exceeds(a, policy.maxEce);
    parts.push(`pooled ECE ${f3(a)} ${over ? "above" : "within"} the cap ${policy.maxEce}`);
    if (over) failures.push("cap");
  }
  return { rule: "calibration", passed: failures.length === 0, numbers, reason: parts.join("; ") };
}

/**
 * Passing is not enough: the candidate must beat the champion's pooled AUROC, or the champion
 * must have degraded (its pooled AUROC now below its own at promotion by more than the margin)
 * and the policy let a candidate that is merely not worse replace it.
 */
export function improvementRule(
  candidate: ModelEvaluation,
  champion: ModelEvaluation,
  baseline: ModelEvaluation | undefined,
  policy: GatePolicy,
): GateRule {
  const a = candidate.auroc;
  const b = champion.auroc;
  const base = baseline?.auroc ?? null;
  const numbers = { candidate: a, champion: b, baseline: base, margin: policy.aurocMargin };
  if (a === null || b === null) return { rule: "improvement", passed: false, numbers, reason: `pooled AUROC ${ONE_CLASS}` };
  const better = exceeds(a, b);
  const degraded = base !== null && exceeds(base - b, policy.aurocMargin);
  const health = base === null
    ? "no baseline to tell whether the champion has degraded"
    : degraded
      ? `the champion has degraded: pooled AUROC ${f3(b)} against ${f3(base)} when promoted, ${change(b - base)}, more than the margin ${policy.aurocMargin}`
      : `the champion has not degraded: pooled AUROC ${f3(b)} against ${f3(base)} when promoted`;
  if (better) return { rule: "improvement", passed: true, numbers, reason: `pooled AUROC ${f3(a)} above the champion's ${f3(b)}` };
  const notAbove = `pooled AUROC ${f3(a)} not above the champion's ${f3(b)}`;
  if (degraded && policy.replaceDegraded) return { rule: "improvement", passed: true, numbers, reason: `${health}; a candidate that passes the other rules may replace it (${notAbove})` };
  const refusal = degraded ? `${health}, but the policy replaces it only with a better candidate` : health;
  return { rule: "improvement", passed: false, numbers, reason: `${notAbove}, and ${refusal}` };
}
