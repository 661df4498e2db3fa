import { availableParallelism } from "node:os";
import { defaultRecipe } from "../cli/recipes.ts";
import { loadBuiltin } from "../gpu-runner/data/datasets.ts";
import type { SimulationPlan } from "../cli/simulate.ts";

/** The plan `npm start` runs, for a shipped dataset, with optional overrides. */
export async function builtinPlan(dataset: "heart-disease" | "wdbc" | "digits", seed: number, overrides: Partial<SimulationPlan> = {}, sites = 4, split = "iid"): Promise<SimulationPlan> {
  const data = await loadBuiltin(dataset, { sites, split, testFraction: 0.3, seed });
  const r = defaultRecipe;
  return {
    sites: data.sites,
    features: data.features,
    model: r.model,
    training: r.training,
    rounds: r.rounds,
    strategy: r.strategy,
    codec: "float32",
    roundDeadlineSeconds: 600,
    workers: availableParallelism(),
    ...overrides,
  };
}

export const quietLogger = { info() {}, warn() {}, error: (m: string, f?: Record<string, unknown>) => process.stderr.write(`${m} ${JSON.stringify(f ?? {})}\n`) };

/** Rows `trainBody` visits in `total` steps: whole batches, and a short one at the end of each epoch. */
export function examplesVisited(rows: number, batch: number, total: number): number {
  const perEpoch = Math.ceil(rows / batch);
  let n = 0;
  for (let s = 0; s < total; s++) n += Math.min(batch, rows - (s % perEpoch) * batch);
  return n;
}
