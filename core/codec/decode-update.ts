import type { CodecName } from "./codec-name.ts";
import { openContainer } from "./container.ts";
import { expectUpdate, type UpdateExpectations } from "./expect-update.ts";

/**
 * Decodes an update container, checking its structure, checksum, the caller's expectations and
 * that the payload is well formed and every value finite. Throws `UpdateFormatError` with one of
 * the codes `TRUNCATED`, `BAD_MAGIC`, `UNSUPPORTED_VERSION`, `UNKNOWN_CODEC`, `BAD_HEADER`,
 * `SIZE_MISMATCH`, `CHECKSUM_MISMATCH`, `LENGTH_MISMATCH`, `CODEC_MISMATCH`, `SEED_MISMATCH`,
 * `BAD_INDICES`, `NON_FINITE`, in that order of checking.
 *
 * @example
 * const { values } = decodeUpdate(bytes, { length: model.length, codec: round.codec });
 */
export function decodeUpdate(
  bytes: Uint8Array,
  expected: UpdateExpectations = {},
): { codec: CodecName; values: Float32Array } {
  const container = openContainer(bytes);
  expectUpdate(container, expected);
  const values = new Float32Array(container.length);
  container.codec.decode(container.payload, container.length, container.param, values);
  return { codec: container.name, values };
}
