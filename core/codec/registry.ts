import { ConfigError } from "../errors.ts";
import type { Codec, CodecOptions } from "./codec.ts";
import { CodecName } from "./codec-name.ts";
import { checkLength } from "./check-length.ts";
import { float16 } from "./float16.ts";
import { float32 } from "./float32.ts";
import { int4 } from "./int4.ts";
import { int8 } from "./int8.ts";
import { randkInt8 } from "./rand-k.ts";
import { topkFloat16, topkInt8 } from "./top-k.ts";

/** Every codec by name. The mapped type makes a new `CodecName` fail to compile until registered. */
export const codecs: { readonly [K in CodecName]: Codec } = {
  float32,
  float16,
  int8,
  int4,
  "topk-int8": topkInt8,
  "randk-int8": randkInt8,
  "topk-float16": topkFloat16,
};

/** Sorted by id, so that an unknown-codec error lists the known ids in order. */
const namesById = new Map(CodecName.options.map((name) => [codecs[name].id, name] as const).sort(([a], [b]) => a - b));

export function codecNameById(id: number): CodecName | undefined {
  return namesById.get(id);
}

export function knownCodecIds(): string {
  return [...namesById].map(([id, name]) => `${id} ${name}`).join(", ");
}

/** The header parameter for encoding `length` values with these options; throws `ConfigError` when invalid. */
export function resolveParam(codec: CodecName, options: CodecOptions, length: number): number {
  checkLength(length);
  const param = codecs[codec].param(options, length);
  const problem = codecs[codec].checkParam(param, length);
  if (problem !== undefined) throw new ConfigError(problem);
  return param;
}

/**
 * Whether a site should carry what `codec` drops into its next update (error feedback).
 *
 * @example
 * if (usesErrorFeedback(spec.name)) ({ bytes, residual } = encodeWithFeedback(delta, saved, encode));
 */
export function usesErrorFeedback(codec: CodecName): boolean {
  return codecs[codec].errorFeedback ?? false;
}
