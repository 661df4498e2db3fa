import { float16 } from "./float16.ts";
import { int8 } from "./int8.ts";
import { sparseCodec, type Support } from "./sparse-codec.ts";
import { readSubset, subsetBytes, writeSubset } from "./subset-code.ts";
import { topKIndices } from "./top-k-indices.ts";

/** Kept values per int8 scale in the sparse codecs: fixed, since the header's parameter is k. */
export const SPARSE_CHUNK = 512;

/**
 * Top-k sparsification (Aji and Heafield, "Sparse Communication for Distributed Gradient
 * Descent", EMNLP 2017), sent with error feedback (Stich et al., "Sparsified SGD with Memory",
 * NeurIPS 2018): keep the `k = keptCount(fraction, n)` largest magnitudes (`top-k-indices.ts`).
 * Top-k is biased, so a site adds what it dropped to its next update (`encode-with-feedback.ts`).
 *
 * The payload is the kept coordinates, enumeratively coded (`subset-code.ts`) in a section of
 * `ceil(subsetBits(n, k) / 8)` bytes, about `n · H2(k / n)` bits, then their values in coordinate
 * order. For 1M values at fraction 0.1 (k = 100,000): 58,625 bytes of positions (4.69 bits per
 * kept coordinate), then 100,000 int8 codes under 196 float32 scales, 159,457 bytes with header
 * and checksum, 25.09 times smaller than float32.
 *
 * Wire ids 5 and 7 were these codecs with Elias–Fano positions; they are retired, never reused.
 */
const topK: Support = {
  bytes: subsetBytes,

  write(values, k, payload) {
    const indices = topKIndices(values, k);
    writeSubset(indices, values.length, payload);
    return indices;
  },

  read: readSubset,

  gain: () => 1,
};

/**
 * Top-k with int8 values: block-wise absmax (`int8.ts`) over the kept values, one float32 scale
 * per `SPARSE_CHUNK` of them, rounded stochastically when encoding with an `rng`.
 */
export const topkInt8 = sparseCodec({ id: 8, name: "topk-int8", support: topK, values: int8, valuesParam: SPARSE_CHUNK, errorFeedback: true });

/** Top-k with float16 values (`float16.ts`): 16 bits per kept value instead of 8.06. */
export const topkFloat16 = sparseCodec({ id: 9, name: "topk-float16", support: topK, values: float16, valuesParam: 0, errorFeedback: true });
