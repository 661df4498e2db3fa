/**
 * @module
 * The federation whose model bytes are pinned (test/model-bytes.test.ts) and compared across
 * runtimes (test/e2e-lambda.test.ts), and how a federation's published models are read as digests.
 */
import type { SimulationPlan } from "../../cli/simulate.ts";
import { sha256Hex } from "../../core/codec/index.ts";
import type { ObjectStore } from "../../functions/ports.ts";
import { syntheticSites, syntheticSpec } from "../fixtures/synthetic-sites.ts";

/** Four synthetic sites, a small MLP, three FedAvg rounds of float32 updates. */
export const bytesPlan: SimulationPlan = {
  sites: syntheticSites({ sites: 4, trainRows: 160, testRows: 60, seed: 11 }),
  features: syntheticSpec,
  model: "mlp:8",
  training: { localEpochs: 2, lrSchedule: "constant", batchSize: 32, learningRate: 0.1, l2: 0.001, headEpochs: 2, headL2: 0.01 },
  rounds: 3,
  strategy: "fedavg",
  codec: "float32",
  roundDeadlineSeconds: 120,
};

/** Every model object the federation published, by key, as its sha256. */
export async function modelDigests(store: ObjectStore): Promise<Record<string, string>> {
  const keys = (await store.list("models/")).filter((k) => k.endsWith(".bin")).sort();
  const out: Record<string, string> = {};
  for (const key of keys) out[key] = sha256Hex((await store.get(key)) ?? new Uint8Array());
  return out;
}
