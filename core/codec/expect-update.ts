import { UpdateFormatError } from "../errors.ts";
import type { CodecName } from "./codec-name.ts";
import type { Container } from "./container.ts";

export interface UpdateExpectations {
  /** Number of values the update must hold. */
  readonly length?: number;
  /** Codec the update must use. */
  readonly codec?: CodecName;
}

/** Checks an opened container against what the round asked for, then that it decodes finite. */
export function expectUpdate(container: Container, expected: UpdateExpectations): void {
  const { name, codec, length, param, payload } = container;
  if (expected.length !== undefined && length !== expected.length) {
    throw new UpdateFormatError("LENGTH_MISMATCH", `update has ${length} values, expected ${expected.length}`);
  }
  if (expected.codec !== undefined && name !== expected.codec) {
    throw new UpdateFormatError("CODEC_MISMATCH", `update uses codec ${name}, expected ${expected.codec}`);
  }
  const problem = codec.checkPayload(payload, length, param);
  if (problem !== undefined) throw new UpdateFormatError("NON_FINITE", problem);
}
