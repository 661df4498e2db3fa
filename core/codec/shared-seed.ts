import { createHash } from "node:crypto";

/**
 * The seed every site's rand-k update draws its coordinates from in one round, so that all of
 * them keep the same coordinates and the coordinator can check it: the first four bytes, read as
 * a little-endian u32, of SHA-256 over the UTF-8 text `consilium/randk-seed:` followed by the
 * round's task seed in decimal (`taskSeed(federationSeed, round)`, what a site gets as
 * `task.seed`). Hashing keeps the seeds of consecutive rounds unrelated.
 *
 * @example
 * const seed = sharedSeed(task.seed); // at a site
 * const expected = sharedSeed(taskSeed(config.seed, round)); // at the coordinator
 */
export function sharedSeed(taskSeed: number): number {
  return createHash("sha256").update(`consilium/randk-seed:${taskSeed}`).digest().readUInt32LE(0);
}
