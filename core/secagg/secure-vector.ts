import { randomFillSync } from "node:crypto";
import { ConfigError, UpdateFormatError } from "../errors.ts";
import { dequantiseSum } from "./dequantise-sum.ts";
import { codeBound, coordinateRange, type QuantisationSpec } from "./quantisation-spec.ts";

/** How a site turns its float update into the codes it masks. */
export interface SecureCodesOptions {
  readonly spec: QuantisationSpec;
  /** Scale the update down to this L2 norm first (absent: the caller clipped it, e.g. before adding DP noise). */
  readonly clip?: number;
  /** The site's weight over the largest weight of the round, in (0, 1]. */
  readonly scale: number;
  /** Random-k: the coordinates every site of the round keeps, ascending; all of them when absent. */
  readonly kept?: Uint32Array;
  /** Uniform [0, 1) draws for stochastic rounding; absent, `node:crypto` draws them (nobody can predict the rounding). */
  readonly rng?: () => number;
  /** Where to write the codes; a new array when absent. */
  readonly out?: Uint32Array;
}

/** Uniform draws fetched from `node:crypto` at a time. */
const DRAWS = 16_384;

/**
 * Site: the codes of one update for secure aggregation, in one pass. The update is clipped to
 * `clip`, scaled by the site's weight share (`scale`, so that the coordinator's plain sum is the
 * weighted sum), reduced to the round's random-k coordinates when there are some, clamped to the
 * spec's range and rounded to its fixed-point codes as `quantise` does (two's complement mod 2^32;
 * stochastic rounding from `rng`, or from `node:crypto` draws when none is given). The clipped and
 * scaled update has norm ≤ clip, so the spec's own clip would change nothing.
 * Throws `UpdateFormatError` (`NON_FINITE`) for a NaN or infinite value.
 *
 * @example
 * const codes = secureCodes(delta, { spec: config.quantisation, clip: 10, scale: 0.4 });
 */
export function secureCodes(update: Float32Array, options: SecureCodesOptions): Uint32Array {
  const { clip, scale, kept, spec, rng } = options;
  if (!(scale > 0 && scale <= 1)) throw new ConfigError(`a site's scale must be in (0, 1], got ${scale}`);
  const n = kept ? kept.length : update.length;
  const out = options.out ?? new Uint32Array(n);
  if (out.length !== n) throw new ConfigError(`secureCodes: out holds ${out.length} values, the round masks ${n}`);
  let factor = scale;
  if (clip !== undefined) {
    let squares = 0;
    for (let i = 0; i < update.length; i++) squares += update[i]! * update[i]!;
    const norm = Math.sqrt(squares);
    if (!Number.isFinite(norm)) throw nonFinite(update);
    if (norm > clip) factor *= clip / norm;
  }
  const range = coordinateRange(spec);
  const bound = codeBound(spec);
  const toCode = (bound / range) * factor;
  const limit = range / factor;
  const stochastic = spec.rounding === "stochastic";
  const draws = stochastic && !rng ? new Uint32Array(DRAWS) : null;
  // Int32 view: the same bits as the u32 codes, so a negative code is stored as its two's complement.
  const codes = new Int32Array(out.buffer, out.byteOffset, n);
  for (let start = 0; start < n; start += DRAWS) {
    const end = Math.min(n, start + DRAWS);
    if (draws) randomFillSync(draws);
    for (let j = start; j < end; j++) {
      const v = update[kept ? kept[j]! : j]!;
      if (!(v <= limit && v >= -limit)) {
        if (!Number.isFinite(v)) throw nonFinite(update);
      }
      const x = (v > limit ? limit : v < -limit ? -limit : v) * toCode;
      let code: number;
      if (!stochastic) code = Math.round(x);
      else {
        const floor = Math.floor(x);
        const u = draws ? draws[j - start]! * 2 ** -32 : rng!();
        code = u < x - floor ? floor + 1 : floor;
      }
      // x can land an ulp past ±Q; the bound is what guarantees the sum.
      codes[j] = code > bound ? bound : code < -bound ? -bound : code;
    }
  }
  return out;
}

function nonFinite(update: Float32Array): UpdateFormatError {
  const at = update.findIndex((v) => !Number.isFinite(v));
  return new UpdateFormatError("NON_FINITE", `cannot quantise: update value at index ${at} is ${update[at]}`);
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
