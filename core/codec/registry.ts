import { ConfigError } from "../errors.ts";
import type { Codec, CodecOptions } from "./codec.ts";
import { CodecName } from "./codec-name.ts";
import { float16 } from "./float16.ts";
import { float32 } from "./float32.ts";
import { int4 } from "./int4.ts";
import { int8 } from "./int8.ts";

/** Every codec by name. The mapped type makes a new `CodecName` fail to compile until registered. */
export const codecs: { readonly [K in CodecName]: Codec } = { float32, float16, int8, int4 };

/** Sorted by id, so that an unknown-codec error lists the known ids in order. */
const namesById = new Map(CodecName.options.map((name) => [codecs[name].id, name] as const).sort(([a], [b]) => a - b));

export function codecNameById(id: number): CodecName | undefined {
  return namesById.get(id);
}

export function knownCodecIds(): string {
  return [...namesById].map(([id, name]) => `${id} ${name}`).join(", ");
}

/** The header parameter for encoding with these options; throws `ConfigError` when invalid. */
export function resolveParam(codec: CodecName, options: CodecOptions): number {
  const param = codecs[codec].param(options);
  const problem = codecs[codec].checkParam(param);
  if (problem !== undefined) throw new ConfigError(problem);
  return param;
}
