import { ConfigError } from "../errors.ts";
import type { CodecName } from "./codec-name.ts";
import { openContainer } from "./container.ts";
import { expectUpdate } from "./expect-update.ts";

/**
 * Accumulates `out[i] += weight * value[i]` straight from an update's bytes, without allocating
 * the decoded vector. The result equals `decodeUpdate` followed by that sum, bit for bit.
 *
 * All checks of `decodeUpdate` run before `out` is touched, so a rejected update leaves it
 * unchanged; the update must hold exactly `out.length` values (else `LENGTH_MISMATCH`).
 * Returns the update's codec.
 *
 * @example
 * const sum = new Float32Array(model.length);
 * for (const { bytes, samples } of updates) decodeUpdateInto(bytes, sum, samples / total);
 */
export function decodeUpdateInto(
  bytes: Uint8Array,
  out: Float32Array,
  weight: number,
  expected: { readonly codec?: CodecName; readonly seed?: number } = {},
): CodecName {
  if (!Number.isFinite(weight)) throw new ConfigError(`weight must be a finite number, got ${weight}`);
  const container = openContainer(bytes);
  expectUpdate(container, { ...expected, length: out.length });
  container.codec.accumulate(container.payload, container.length, container.param, out, weight);
  return container.name;
}
