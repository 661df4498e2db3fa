import { ConfigError } from "../errors.ts";
import { quantisationStep, type QuantisationSpec } from "./quantisation-spec.ts";

/**
 * The float sum of `summands` quantised updates from their sum mod 2^32: each u32 is read as an
 * int32 (exact while `summands ≤ maxSummands`, see `quantisation-spec.ts`) and multiplied by the
 * step. The result is within `summands` steps of the sum of the clipped floats (half that with
 * nearest rounding). Throws `ConfigError` when `summands` is outside 1..maxSummands, since the sum
 * could then have wrapped.
 *
 * @example
 * const total = dequantiseSum(result.sum, config.quantisation, result.summands);
 */
export function dequantiseSum(sum: Uint32Array, spec: QuantisationSpec, summands: number, out = new Float32Array(sum.length)): Float32Array {
  if (!Number.isInteger(summands) || summands < 1 || summands > spec.maxSummands) {
    throw new ConfigError(`cannot decode a sum of ${summands} updates: the quantisation leaves room for 1 to ${spec.maxSummands}`);
  }
  if (out.length !== sum.length) throw new ConfigError(`dequantiseSum: out holds ${out.length} values, the sum ${sum.length}`);
  const step = quantisationStep(spec);
  const signed = new Int32Array(sum.buffer, sum.byteOffset, sum.length);
  for (let i = 0; i < signed.length; i++) out[i] = signed[i]! * step;
  return out;
}
