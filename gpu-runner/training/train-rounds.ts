import type { Layout } from "../../core/model/layout.ts";
import { roundLearningRate } from "../../core/model/learning-rate.ts";
import type { Dataset } from "../../core/preprocess/transform.ts";
import type { TrainingConfig } from "../../core/schemas/federation.ts";
import { trainBody, type TrainOptions } from "./train.ts";

/** One round of local training as the federation prescribes it (steps or epochs, scheduled rate). */
export function roundOptions(t: TrainingConfig, round: number, rounds: number, rng: () => number, stepsScale = 1): TrainOptions {
  return {
    epochs: t.localEpochs,
    steps: t.localSteps === undefined ? undefined : t.localSteps * stepsScale,
    batchSize: t.batchSize,
    learningRate: roundLearningRate(t, round, rounds),
    l2: t.l2,
    rng,
  };
}

/**
 * The federation's training schedule without the federation: the local-only baseline (one site's
 * rows) and the centralized baseline (every site's rows, `stepsScale` = number of sites so that as
 * many samples are processed as by all sites together).
 */
export function trainRounds(layout: Layout, init: Float32Array, data: Dataset, t: TrainingConfig, rounds: number, rng: () => number, stepsScale = 1): Float32Array {
  let body = init;
  for (let r = 1; r <= rounds; r++) body = trainBody(layout, body, data, roundOptions(t, r, rounds, rng, stepsScale)).params;
  return body;
}
