import { QualityReport } from "../../core/quality/quality-report.ts";
import type { FederationConfig } from "../../core/schemas/federation.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { readJson } from "../repo.ts";

/** The data-quality report, once the statistics phase has completed. */
export function loadQuality(deps: CoordinatorDeps): Promise<QualityReport | null> {
  return readJson(deps.store, keys.quality, QualityReport);
}

/** Sites still taking part: the expected ones less those the data-quality policy excluded. */
export async function activeSites(deps: CoordinatorDeps, config: FederationConfig): Promise<number> {
  return config.expectedSites - ((await loadQuality(deps))?.excluded.length ?? 0);
}
