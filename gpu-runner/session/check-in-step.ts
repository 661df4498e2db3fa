/**
 * @module
 * A site's check-in between runs: its current statistics over the features the consortium's last
 * statistics task named, a version of its data, and the installed champion's counts on its
 * held-out rows; the coordinator answers with drift flags (`functions/use-cases/runs/check-in.ts`).
 * Under noisy statistics every check-in would be another noisy release, spent outside the privacy
 * ledger, so a site of such a consortium does not check in.
 */
import { createHash } from "node:crypto";
import { countPredictions } from "../../core/metrics/index.ts";
import { computeSiteStats, withOutOfRange } from "../../core/preprocess/site-stats.ts";
import type { Table } from "../../core/preprocess/table.ts";
import type { CheckIn, CheckInAnswer } from "../../core/schemas/consortium.ts";
import type { FeatureSpec } from "../../core/schemas/feature-spec.ts";
import type { SiteData } from "../data/builtin-datasets.ts";
import { scoreRows } from "../model/score-rows.ts";
import { loadInstalled } from "./installed-model.ts";
import type { SiteSession } from "./site-session.ts";

/** A digest of a site's rows: the data version a check-in names when the hospital names none. */
export function dataDigest(tables: readonly Table[]): string {
  const h = createHash("sha256");
  for (const t of tables) {
    h.update(t.columns.join("\u0001"));
    for (const row of t.rows) h.update(`\u0002${row.join("\u0001")}`);
  }
  return `sha256:${h.digest("hex").slice(0, 16)}`;
}

/** Sends one check-in; the champion's counts when the site has installed one. */
export async function checkInStep(s: SiteSession, data: { readonly train: Table; readonly test: Table; readonly outOfRange?: SiteData["outOfRange"] }, features: FeatureSpec, dataVersion: string, stateDir?: string): Promise<CheckInAnswer> {
  // Readings the data model refused as out of range go with the statistics, as at a run's start: a unit error shows there first.
  const stats = withOutOfRange(computeSiteStats(data.train, features), data.outOfRange);
  const installed = stateDir ? await loadInstalled(stateDir).catch(() => null) : null;
  let champion: CheckIn["champion"];
  if (installed !== null) {
    const { test } = s.prepared(installed.meta.preprocessing);
    champion = { version: installed.meta.modelVersion, counts: countPredictions(scoreRows(installed.meta.layout, installed.body, null, test), test.y) };
  }
  return s.client.checkIn({ stats, dataVersion, ...(champion && { champion }) });
}
