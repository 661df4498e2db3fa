import { ConfigError } from "../errors.ts";

/**
 * `sum += x` modulo 2^32, in place; how the coordinator accumulates masked inputs as they arrive,
 * so it never holds more than one of them besides the sum.
 *
 * @example
 * const maskedSum = new Uint32Array(config.length);
 * for await (const masked of maskedInputs) addWrapping(maskedSum, masked);
 */
export function addWrapping(sum: Uint32Array, x: Uint32Array): Uint32Array {
  if (sum.length !== x.length) throw new ConfigError(`cannot add a vector of ${x.length} values to a sum of ${sum.length}`);
  const s = new Int32Array(sum.buffer, sum.byteOffset, sum.length);
  const v = new Int32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0; i < s.length; i++) s[i] = (s[i]! + v[i]!) | 0;
  return sum;
}
