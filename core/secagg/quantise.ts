import { ConfigError } from "../errors.ts";
import type { QuantisationSpec } from "./quantisation-spec.ts";
import { secureCodes } from "./secure-vector.ts";

export interface QuantiseOptions {
  /** Uniform [0, 1) draws, needed for stochastic rounding (one per coordinate). */
  readonly rng?: () => number;
  /** Where to write the codes; a new array when absent. */
  readonly out?: Uint32Array;
}

/**
 * Fixed-point quantisation of a float update into Z_2^32 (the "quantise first, then mask" step of
 * Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving Machine Learning", CCS
 * 2017): clip to the L2 bound, clamp each coordinate to the range, scale and round as the spec
 * says (`quantisation-spec.ts`), and store each signed code modulo 2^32 (two's complement), so that
 * codes, masks and sums all add with wraparound.
 * Throws `UpdateFormatError` (`NON_FINITE`) for a NaN or infinite value.
 *
 * @example
 * const codes = quantise(delta, spec, { rng: seededRandom(seed) });
 */
export function quantise(update: Float32Array, spec: QuantisationSpec, options: QuantiseOptions = {}): Uint32Array {
  if (options.out && options.out.length !== update.length) throw new ConfigError(`quantise: out holds ${options.out.length} values, the update ${update.length}`);
  if (spec.rounding === "stochastic" && options.rng === undefined) throw new ConfigError("stochastic rounding needs an rng");
  // The spec's own clip, no weight scale: the same codes `secureCodes` writes for a site of the largest weight.
  return secureCodes(update, { spec, ...(spec.clipNorm !== undefined && { clip: spec.clipNorm }), scale: 1, ...options });
}
