import { ConfigError, UpdateFormatError } from "../errors.ts";
import { codeBound, coordinateRange, type QuantisationSpec } from "./quantisation-spec.ts";

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
  const out = options.out ?? new Uint32Array(update.length);
  if (out.length !== update.length) throw new ConfigError(`quantise: out holds ${out.length} values, the update ${update.length}`);
  const { rng } = options;
  if (spec.rounding === "stochastic" && rng === undefined) throw new ConfigError("stochastic rounding needs an rng");

  let factor = 1;
  if (spec.clipNorm !== undefined) {
    let squares = 0;
    for (let i = 0; i < update.length; i++) squares += update[i]! * update[i]!;
    const norm = Math.sqrt(squares);
    if (!Number.isFinite(norm)) throw nonFinite(update);
    if (norm > spec.clipNorm) factor = spec.clipNorm / norm;
  }
  const range = coordinateRange(spec);
  const bound = codeBound(spec);
  const scale = bound / range;
  // Int32 view: the same bits as the u32 codes, so a negative code is stored as its two's complement.
  const codes = new Int32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < update.length; i++) {
    const value = update[i]! * factor;
    if (!Number.isFinite(value)) throw nonFinite(update);
    const x = (value > range ? range : value < -range ? -range : value) * scale;
    let code: number;
    if (rng === undefined || spec.rounding === "nearest") code = Math.round(x);
    else {
      const floor = Math.floor(x);
      code = rng() < x - floor ? floor + 1 : floor;
    }
    // x·scale can land an ulp past ±Q; the bound is what guarantees the sum.
    codes[i] = code > bound ? bound : code < -bound ? -bound : code;
  }
  return out;
}

function nonFinite(update: Float32Array): UpdateFormatError {
  const at = update.findIndex((v) => !Number.isFinite(v));
  return new UpdateFormatError("NON_FINITE", `cannot quantise: update value at index ${at} is ${update[at]}`);
}
