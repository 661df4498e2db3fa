import { z } from "zod";
import type { SiteStats } from "../schemas/site-stats.ts";
import { assessSites, DEFAULT_THRESHOLDS, QualityFlag } from "./assess-sites.ts";

/** What the data-quality checks found when the statistics phase completed, and what was done about it. */
export const QualityReport = z.object({
  policy: z.enum(["warn", "exclude"]),
  flags: z.array(QualityFlag),
  /** Sites left out of preprocessing, rounds and evaluation (policy `exclude`). */
  excluded: z.array(z.string()),
  /** Why flagged sites were not excluded, when they were not. */
  note: z.string().optional(),
});
export type QualityReport = z.infer<typeof QualityReport>;

/** Below this many sites left, exclusion gives way to a warning: a federation needs a consortium. */
const MIN_SITES = 2;

/**
 * Runs the checks over every site's statistics and applies the policy: under `exclude`, every
 * flagged site is left out, unless fewer than two sites would remain.
 *
 * @example
 * qualityReport("exclude", [{ siteId: "a", stats }, …]); // { policy: "exclude", flags: [...], excluded: ["c"] }
 */
export function qualityReport(policy: "warn" | "exclude", sites: readonly { readonly siteId: string; readonly stats: SiteStats }[], options: { readonly noisy?: boolean } = {}): QualityReport {
  const flags = assessSites(sites, DEFAULT_THRESHOLDS, options);
  const flagged = [...new Set(flags.map((f) => f.siteId))];
  if (policy === "warn" || flagged.length === 0) return { policy, flags, excluded: [] };
  if (sites.length - flagged.length < MIN_SITES) {
    return { policy, flags, excluded: [], note: `not excluded: leaving out ${flagged.length} of ${sites.length} sites would leave fewer than ${MIN_SITES}` };
  }
  return { policy, flags, excluded: flagged };
}
