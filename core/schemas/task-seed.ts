/**
 * The seed of a round's training task (`task.seed`), from the federation's seed and the round:
 * `federationSeed × 100003 + round`. Sites draw their minibatches from it (mixed with their own
 * seed), and both sides derive the round's rand-k seed from it (`sharedSeed`).
 *
 * @example
 * const seed = taskSeed(config.seed, round.round);
 */
export function taskSeed(federationSeed: number, round: number): number {
  return federationSeed * 100003 + round;
}
