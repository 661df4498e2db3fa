import type { CodecOptions } from "./codec.ts";
import type { CodecName } from "./codec-name.ts";
import { containerBytes } from "./container.ts";
import { resolveParam } from "./registry.ts";

/**
 * Exact byte size of `encodeUpdate(values, codec, options)` for `length` values, so the
 * coordinator can presign an upload for that size before any update exists.
 *
 * @example
 * const url = await store.presignPut(key, 900, encodedSize(model.length, round.codec));
 */
export function encodedSize(length: number, codec: CodecName, options: CodecOptions = {}): number {
  return containerBytes(codec, length, resolveParam(codec, options, length));
}
