import { z } from "zod";
import { ModelEvaluation } from "./model-evaluation.ts";

/** The rules of the promotion gate, in the order they are judged. */
export const GateRuleName = z.enum(["chance", "within-site", "comparable", "pooled-auroc", "site-sensitivity", "calibration", "improvement"]);
export type GateRuleName = z.infer<typeof GateRuleName>;

/** The numbers a rule judged by, by name; `null` where a number is undefined (one class). */
const Numbers = z.record(z.string(), z.number().nullable());

/** One site under a per-site rule; `passed` is `null` when the site had too few rows to judge. */
export const SiteJudgement = z.object({ siteId: z.string(), passed: z.boolean().nullable(), numbers: Numbers, reason: z.string() });
export type SiteJudgement = z.infer<typeof SiteJudgement>;

/** One rule's verdict with the numbers it compared and a sentence that names them. */
export const GateRule = z.object({
  rule: GateRuleName,
  passed: z.boolean(),
  numbers: Numbers,
  reason: z.string(),
  sites: z.array(SiteJudgement).optional(),
});
export type GateRule = z.infer<typeof GateRule>;

/**
 * What the promotion gate decided and why, recorded with every number it used: promote when
 * every rule passed. `candidate` and `champion` are the pooled evaluations over the sites that
 * evaluated both (`sites`); `leftOut` names the sites that evaluated only one of them.
 *
 * @example
 * const decision = GateDecision.parse(JSON.parse(text));
 */
export const GateDecision = z.object({
  promote: z.boolean(),
  reason: z.string(),
  rules: z.array(GateRule),
  candidate: ModelEvaluation,
  champion: ModelEvaluation.nullable(),
  sites: z.array(z.string()),
  leftOut: z.array(z.string()),
});
export type GateDecision = z.infer<typeof GateDecision>;
