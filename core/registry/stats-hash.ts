import { createHash } from "node:crypto";
import type { z } from "zod";
import { SiteStats } from "../schemas/site-stats.ts";
import { canonicalJson } from "./canonical-json.ts";

/**
 * Lower-case hex SHA-256 of the canonical JSON of a site's statistics: the digest of the data a
 * version was trained on that a model card names, without the statistics themselves.
 *
 * @example
 * const snapshot = { siteId, rows: stats.rows, positives: stats.positives, statsSha256: statsHash(stats) };
 */
export function statsHash(stats: z.input<typeof SiteStats>): string {
  return createHash("sha256").update(canonicalJson(SiteStats.parse(stats))).digest("hex");
}
