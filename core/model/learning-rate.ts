import type { TrainingConfig } from "../schemas/federation.ts";

/**
 * The site learning rate in round `round` of `rounds`: constant, or cosine-decayed
 * (Loshchilov & Hutter 2017) so that late rounds move the model less and client drift vanishes.
 */
export function roundLearningRate(training: Pick<TrainingConfig, "learningRate" | "lrSchedule">, round: number, rounds: number): number {
  if (training.lrSchedule !== "cosine" || rounds <= 1) return training.learningRate;
  return training.learningRate * 0.5 * (1 + Math.cos((Math.PI * (round - 1)) / rounds));
}
