import { UpdateFormatError } from "../errors.ts";
import type { CodecName } from "./codec-name.ts";
import type { Container } from "./container.ts";

export interface UpdateExpectations {
  /** Number of values the update must hold. */
  readonly length?: number;
  /** Codec the update must use. */
  readonly codec?: CodecName;
  /**
   * The round's shared seed (`sharedSeed`), which a seeded codec (randk-*) must have drawn its
   * coordinates from. Codecs without a seed ignore it, so a caller may always pass the round's.
   */
  readonly seed?: number;
}

/** Checks an opened container against what the round asked for, then that its payload is well formed and finite. */
export function expectUpdate(container: Container, expected: UpdateExpectations): void {
  const { name, codec, length, param, payload } = container;
  if (expected.length !== undefined && length !== expected.length) {
    throw new UpdateFormatError("LENGTH_MISMATCH", `update has ${length} values, expected ${expected.length}`);
  }
  if (expected.codec !== undefined && name !== expected.codec) {
    throw new UpdateFormatError("CODEC_MISMATCH", `update uses codec ${name}, expected ${expected.codec}`);
  }
  const seed = codec.seed?.(payload);
  if (expected.seed !== undefined && seed !== undefined && seed !== expected.seed) {
    throw new UpdateFormatError("SEED_MISMATCH", `update draws its coordinates from seed ${seed}, the round's seed is ${expected.seed}`);
  }
  const problem = codec.checkPayload(payload, length, param);
  if (problem !== undefined) throw new UpdateFormatError(problem.code, problem.message);
}
