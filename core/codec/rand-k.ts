import { ConfigError } from "../errors.ts";
import { int8 } from "./int8.ts";
import { seededSubset } from "./seeded-subset.ts";
import { sparseCodec, type Support } from "./sparse-codec.ts";
import { SPARSE_CHUNK } from "./top-k.ts";

/**
 * Random-k sparsification with a shared seed (Konečný et al., "Federated Learning: Strategies for
 * Improving Communication Efficiency", 2016; Stich et al., "Sparsified SGD with Memory", NeurIPS
 * 2018): keep `k = keptCount(fraction, n)` coordinates drawn from a 32-bit seed
 * (`seeded-subset.ts`), scaled by `n / k`.
 *
 * Each coordinate is kept with probability k / n, so `E[decoded_i] = (k / n) · (n / k) · x_i =
 * x_i`: the decoded vector is an unbiased estimate of the delta (exactly so with stochastically
 * rounded values), at a variance of `(n / k − 1) · x_i²` per coordinate. Being unbiased, it needs
 * no error feedback; with feedback the scaled compressor would not be contractive (its error has
 * `E‖C(x) − x‖² = (n / k − 1)‖x‖²`, more than ‖x‖² below half density), so residuals would grow.
 *
 * The payload is the seed (u32, little-endian), so no index bytes, then the kept values
 * `fround(n / k · x_i)`, saturated at the float32 range, as int8 with one float32 scale per
 * `SPARSE_CHUNK`. Every site of a round draws from the round's seed (`sharedSeed`), so all of
 * them send the same coordinates, and the coordinator checks it (`UpdateExpectations.seed`).
 * For 1M values at fraction 0.1: 4 + 100,000 + 196 × 4 bytes of payload, 39.7 times smaller
 * than float32.
 */
const randK: Support = {
  bytes: () => 4,

  checkOptions({ seed }) {
    if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
      throw new ConfigError(`a rand-k seed must be an integer from 0 to 4294967295, got ${seed}`);
    }
  },

  write(values, k, payload, { seed = 0 }) {
    payload.setUint32(0, seed, true);
    return seededSubset(values.length, k, seed);
  },

  read(payload, length, k, out) {
    seededSubset(length, k, payload.getUint32(0, true), out);
    return undefined;
  },

  gain: (length, k) => (k === 0 ? 1 : length / k),

  seed: (payload) => payload.getUint32(0, true),
};

export const randkInt8 = sparseCodec({ id: 6, name: "randk-int8", support: randK, values: int8, valuesParam: SPARSE_CHUNK });
