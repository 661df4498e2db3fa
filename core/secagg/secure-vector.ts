import { ConfigError } from "../errors.ts";
import { dequantiseSum } from "./dequantise-sum.ts";
import type { QuantisationSpec } from "./quantisation-spec.ts";
import { quantise } from "./quantise.ts";

/** How a site turns its float update into the codes it masks. */
export interface SecureCodesOptions {
  readonly spec: QuantisationSpec;
  /** Scale the update down to this L2 norm first (absent: the caller clipped it, e.g. before adding DP noise). */
  readonly clip?: number;
  /** The site's weight over the largest weight of the round, in (0, 1]. */
  readonly scale: number;
  /** Random-k: the coordinates every site of the round keeps, ascending; all of them when absent. */
  readonly kept?: Uint32Array;
  /** Uniform [0, 1) draws for stochastic rounding. */
  readonly rng?: () => number;
}

/**
 * Site: the codes of one update for secure aggregation. The update is clipped to `clip`, scaled
 * by the site's weight share (`scale`, so that the coordinator's plain sum is the weighted sum),
 * reduced to the round's random-k coordinates when there are some, and quantised (`quantise`).
 * The clipped and scaled update has norm ≤ clip, so the spec's own clip changes nothing.
 *
 * @example
 * const codes = secureCodes(delta, { spec: config.quantisation, clip: 10, scale: 0.4, rng });
 */
export function secureCodes(update: Float32Array, options: SecureCodesOptions): Uint32Array {
  const { clip, scale, kept } = options;
  if (!(scale > 0 && scale <= 1)) throw new ConfigError(`a site's scale must be in (0, 1], got ${scale}`);
  let factor = scale;
  if (clip !== undefined) {
    let squares = 0;
    for (let i = 0; i < update.length; i++) squares += update[i]! * update[i]!;
    const norm = Math.sqrt(squares);
    if (norm > clip) factor *= clip / norm;
  }
  const values = new Float32Array(kept ? kept.length : update.length);
  if (kept) for (let j = 0; j < kept.length; j++) values[j] = update[kept[j]!]! * factor;
  else for (let i = 0; i < update.length; i++) values[i] = update[i]! * factor;
  return quantise(values, options.spec, options.rng ? { rng: options.rng } : {});
}

/** How the coordinator turns the unmasked sum into the weighted mean. */
export interface SecureMeanOptions {
  readonly spec: QuantisationSpec;
  /** Masked inputs in the sum. */
  readonly summands: number;
  /** Σ of the summed sites' scales: the sum divided by it is the weighted mean. */
  readonly scaleSum: number;
  /** Length of the full update. */
  readonly length: number;
  /** Random-k: the kept coordinates and the codec's gain (length / kept), as the sites used them. */
  readonly randk?: { readonly kept: Uint32Array; readonly gain: number };
}

/**
 * Coordinator: the weighted mean of the summed updates from their unmasked sum mod 2^32
 * (`unmaskSum`), decoded (`dequantiseSum`) and divided by the sum of the sites' scales; with
 * random-k, scattered back to the full length and multiplied by the codec's gain, as the plain
 * random-k codec decodes. Coordinates random-k left out are zero.
 *
 * @example
 * const mean = secureMean(result.sum, { spec, summands: result.summands, scaleSum, length });
 */
export function secureMean(sum: Uint32Array, options: SecureMeanOptions): Float32Array {
  const { spec, summands, scaleSum, length, randk } = options;
  if (!(scaleSum > 0)) throw new ConfigError(`the summed scales must be positive, got ${scaleSum}`);
  const decoded = dequantiseSum(sum, spec, summands);
  if (!randk) {
    if (decoded.length !== length) throw new ConfigError(`the sum holds ${decoded.length} values, the update ${length}`);
    for (let i = 0; i < length; i++) decoded[i] = decoded[i]! / scaleSum;
    return decoded;
  }
  if (randk.kept.length !== decoded.length) throw new ConfigError(`the sum holds ${decoded.length} values, random-k keeps ${randk.kept.length}`);
  const mean = new Float32Array(length);
  const factor = randk.gain / scaleSum;
  for (let j = 0; j < randk.kept.length; j++) mean[randk.kept[j]!] = decoded[j]! * factor;
  return mean;
}
