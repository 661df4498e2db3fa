/**
 * @module
 * What the consortium does about drift: the thresholds every check flags at, which checks trigger
 * a training run, and which leave a site's new data out of training as a quality problem.
 */
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { DEFAULT_CALIBRATION_ROWS } from "../metrics/calibration.ts";
import { DEFAULT_THRESHOLDS } from "../quality/assess-sites.ts";
import { DriftCheck, type DriftFlag } from "./drift-flag.ts";

export const DriftPolicy = z
  .object({
    /** PSI at which a feature has shifted enough to act (Siddiqi's major band)… */
    psi: z.number().positive().default(0.25),
    /** …and at which it is worth a look (his moderate band): flagged `watch`, never acted on. */
    psiWatch: z.number().positive().default(0.1),
    /** Groups of histogram bins the index is taken over (the usual ten). */
    psiGroups: z.int().min(2).max(100).default(10),
    /** Without histograms (no range in the spec, or noisy statistics): PSI of normals with the moments, or none. */
    psiWithoutHistogram: z.enum(["normal", "skip"]).default("normal"),
    /** A mean moved by this many pooled standard deviations (Cohen's medium effect). */
    shift: z.number().positive().default(0.5),
    /**
     * Every flag must also be beyond sampling noise at this standard normal quantile (rates and
     * means by a z test, PSI and Hosmer–Lemeshow by their chi-square, AUROC by DeLong's variance):
     * sites × features × windows make many tests.
     */
    z: z.number().positive().default(3),
    /** A label prevalence that moved by at least this much (absolute). */
    prevalenceGap: z.number().min(0).max(1).default(0.05),
    /** A missing rate that moved by at least this much (absolute), either way. */
    missingGap: z.number().min(0).max(1).default(0.1),
    /** A mean ratio within this relative distance of a known conversion factor is a unit error. */
    unitTolerance: z.number().positive().lt(1).default(DEFAULT_THRESHOLDS.unitTolerance),
    /** The champion's AUROC fell by at least this much. */
    aurocDrop: z.number().min(0).max(1).default(0.05),
    /** Its expected calibration error rose by at least this much. */
    eceRise: z.number().min(0).max(1).default(0.05),
    /** Fewest rows in a group of score bins for calibration. */
    calibrationRows: z.int().min(1).default(DEFAULT_CALIBRATION_ROWS),
    /** Checks whose flags call for a training run. */
    trigger: z.array(DriftCheck).default(["psi", "shift", "prevalence", "auroc", "calibration"]),
    /** Checks whose flags leave the site's new data out of training: a unit error is never trained on silently. */
    exclude: z.array(DriftCheck).default(["unit"]),
  })
  .refine((p) => p.psiWatch <= p.psi, { message: "psiWatch must not exceed psi", path: ["psiWatch"] });
export type DriftPolicy = z.infer<typeof DriftPolicy>;
export type DriftPolicyInput = z.input<typeof DriftPolicy>;

/**
 * The policy with its defaults filled in; a `ConfigError` naming each bad field otherwise.
 *
 * @example
 * driftPolicy({ exclude: ["unit", "missing"] });
 */
export function driftPolicy(input: DriftPolicyInput = {}): DriftPolicy {
  const parsed = DriftPolicy.safeParse(input);
  if (!parsed.success) throw new ConfigError(`drift: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

export interface DriftDecision {
  readonly trigger: boolean;
  /** Sites whose new data stays out of training, in the order their flags came. */
  readonly excludeSites: string[];
  /** Why, one line per flag acted on: exclusions first, then what triggers. */
  readonly reasons: string[];
}

/**
 * What the flags call for under `policy`. Only `act` flags count. A site with an `exclude` flag
 * is left out first; its other flags trigger nothing, since its new data will not be trained on.
 *
 * @example
 * driftDecision(flags, driftPolicy());
 * // { trigger: true, excludeSites: ["site-3"], reasons: ["leave out site-3's new data: site-3: chol mean …", "retrain: site-2: age PSI 0.61 …"] }
 */
export function driftDecision(flags: readonly DriftFlag[], policy: DriftPolicy): DriftDecision {
  const acted = flags.filter((f) => f.severity === "act");
  const excluding = acted.filter((f) => policy.exclude.includes(f.check));
  const excludeSites = [...new Set(excluding.map((f) => f.siteId))];
  const triggering = acted.filter((f) => policy.trigger.includes(f.check) && !excludeSites.includes(f.siteId));
  return {
    trigger: triggering.length > 0,
    excludeSites,
    reasons: [...excluding.map((f) => `leave out ${f.siteId}'s new data: ${f.reason}`), ...triggering.map((f) => `retrain: ${f.reason}`)],
  };
}
