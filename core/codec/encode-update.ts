import { UpdateFormatError } from "../errors.ts";
import type { CodecOptions } from "./codec.ts";
import type { CodecName } from "./codec-name.ts";
import { writeContainer } from "./container.ts";
import { codecs, resolveParam } from "./registry.ts";

/**
 * Encodes a model delta into an update container (layout in `container.ts`).
 *
 * Throws `UpdateFormatError("NON_FINITE")` when a value is NaN or ±Infinity, and `ConfigError`
 * for an invalid option. The output depends only on the arguments (and, with `options.rng`, on
 * that stream's seed), so a retried upload is byte-identical.
 *
 * @example
 * const bytes = encodeUpdate(delta, "int8", { chunkSize: 256 });
 * const unbiased = encodeUpdate(delta, "int4", { rng: seededRandom(seed) });
 * const sparse = encodeUpdate(delta, "randk-int8", { fraction: 0.1, seed: sharedSeed(task.seed) });
 */
export function encodeUpdate(values: Float32Array, codec: CodecName, options: CodecOptions = {}): Uint8Array {
  const param = resolveParam(codec, options, values.length);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new UpdateFormatError("NON_FINITE", `value at index ${i} is ${values[i]}, only finite values can be encoded`);
    }
  }
  return writeContainer(codec, values.length, param, (payload) => codecs[codec].encode(values, param, payload, options));
}
