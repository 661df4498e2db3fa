/**
 * @module
 * Helpers for the schema tests: what a failed parse says, reduced to paths and messages, and
 * valid examples of the messages that other messages nest.
 */
import type { z } from "zod";
import { countPredictions } from "../../core/metrics/count-predictions.ts";
import { DEFAULT_BINS, type EvalCounts } from "../../core/metrics/eval-counts.ts";
import { modelLayout } from "../../core/model/layout.ts";
import type { FeatureSpec } from "../../core/schemas/feature-spec.ts";
import type { Preprocessing } from "../../core/schemas/preprocessing.ts";

/** `[path, message]` of each issue, path joined with dots; `[]` when the value parses. */
export function issuesOf(schema: z.ZodType, value: unknown): [string, string][] {
  const result = schema.safeParse(value);
  return result.success ? [] : result.error.issues.map((i) => [i.path.join("."), i.message]);
}

export const sha = "a".repeat(64);

/** Two negatives (0.2, 0.6) and one positive (0.8), in `bins` bins (as sites submit them by default). */
export const counts = (bins = DEFAULT_BINS): EvalCounts => countPredictions(new Float64Array([0.2, 0.8, 0.6]), new Uint8Array([0, 1, 0]), bins);

export const featureSpec = (): FeatureSpec => ({
  features: [
    { name: "age", column: "age", type: "numeric", missing: [] },
    { name: "cp", column: "cp", type: "categorical", missing: ["0"] },
  ],
  label: { column: "num", positiveAbove: 0 },
  missingTokens: ["", "NA", "?"],
});

export const preprocessing = (): Preprocessing => ({
  features: [
    { kind: "numeric", name: "age", column: "age", missing: [], mean: 54.2, sd: 9.1, missingIndicator: false },
    { kind: "categorical", name: "cp", column: "cp", missing: ["0"], levels: ["1", "2"], impute: "2" },
  ],
  label: { column: "num", positiveAbove: 0 },
  missingTokens: ["", "NA", "?"],
  inputs: ["age", "cp=2"],
  rows: 120,
  positives: 50,
});

export const training = () => ({ localEpochs: 2, batchSize: 32, learningRate: 0.05, l2: 0, headEpochs: 50, headL2: 0.01 });

/** A FederationConfig's input with every kind of field set. */
export const federationInput = () => ({
  id: "heart-2025",
  features: featureSpec(),
  model: { kind: "mlp" as const, hidden: [16] },
  training: training(),
  rounds: 20,
  expectedSites: 4,
  quorum: 3,
  roundDeadlineSeconds: 600,
  strategy: "fedadam:0.05",
  codec: "int8",
  seed: 7,
});

export const modelRef = () => ({ version: 3, url: "https://store.example/models/3", sha256: sha, byteLength: 1024 });

export const layout = () => modelLayout({ kind: "mlp", hidden: [4] }, 2);
