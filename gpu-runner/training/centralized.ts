/**
 * @module
 * The centralized baseline: the same preprocessing, model, optimiser and schedule as the federation
 * (as many samples processed in all), but with every site's training rows in one place. Only a
 * simulation can run it.
 */
import { initBody } from "../../core/model/init-params.ts";
import { seededRandom } from "../../core/random.ts";
import { modelLayout, outputCount } from "../../core/model/layout.ts";
import type { ModelSpec } from "../../core/model/model-spec.ts";
import { mergeSiteStats } from "../../core/preprocess/merge-stats.ts";
import { computeSiteStats } from "../../core/preprocess/site-stats.ts";
import { applyPreprocessing, type Dataset } from "../../core/preprocess/transform.ts";
import type { FeatureSpec } from "../../core/schemas/feature-spec.ts";
import type { TrainingConfig } from "../../core/schemas/federation.ts";
import type { SiteData } from "../data/builtin-datasets.ts";
import { countRows, type ModelCounts } from "../model/score-rows.ts";
import { trainRounds } from "./train-rounds.ts";

function concat(parts: Dataset[]): Dataset {
  const dim = parts[0]?.dim ?? 0;
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const x = new Float32Array(rows * dim);
  const y = new Uint8Array(rows);
  let at = 0;
  for (const p of parts) {
    x.set(p.x, at * dim);
    y.set(p.y, at);
    at += p.rows;
  }
  return { x, y, rows, dim };
}

export interface CentralizedOptions {
  readonly sites: readonly SiteData[];
  readonly features: FeatureSpec;
  readonly model: ModelSpec;
  readonly training: TrainingConfig;
  readonly rounds: number;
  readonly seed: number;
}

/** Counts on each site's test rows, in site order: binary counts, or a K-class model's (`countRows`). */
export function trainCentralized(o: CentralizedOptions): ModelCounts[] {
  const prep = mergeSiteStats(o.sites.map((s) => computeSiteStats(s.train, o.features)), o.features);
  const layout = modelLayout(o.model, prep.inputs.length, outputCount(prep.label));
  const train = concat(o.sites.map((s) => applyPreprocessing(s.train, prep)));
  const rng = seededRandom(o.seed ^ 0x5eed);
  const body = trainRounds(layout, initBody(layout, seededRandom(o.seed)), train, o.training, o.rounds, rng, o.sites.length);
  return o.sites.map((s) => {
    const test = applyPreprocessing(s.test, prep);
    return countRows(layout, body, null, test);
  });
}
