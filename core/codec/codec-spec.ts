import { z } from "zod";
import { CodecName } from "./codec-name.ts";
import { DEFAULT_FRACTION } from "./sparse-codec.ts";

/** The sparsifiers a spec may put before its values codec; `topk` with `int8` is codec `topk-int8`. */
const SPARSIFIERS = ["topk", "randk"];
/** Dense codecs whose chunk size a spec may set (`int8:64`). */
const CHUNKED = ["int8", "int4"];
const EXPECTED = "float32, float16, int8[:CHUNK], int4[:CHUNK], topk:FRACTION+int8, topk:FRACTION+float16 or randk:FRACTION+int8";

interface ParsedSpec {
  readonly name: CodecName;
  /** Share of the coordinates kept, for sparse codecs. */
  readonly fraction?: number;
  /** Values per scale, for int8 and int4. */
  readonly chunkSize?: number;
}

/**
 * A codec spec as federations, tasks and the CLI spell it, parsed into the codec's name and its
 * options (`CodecOptions`): a dense codec, `float32`, `float16`, `int8[:CHUNK]` or
 * `int4[:CHUNK]`, or a sparsifier with the share of coordinates it keeps and the codec of the kept
 * values, `topk:FRACTION+int8`, `topk:FRACTION+float16` or `randk:FRACTION+int8`, FRACTION in
 * (0, 1]. The plain names stay valid, so older agreements parse as before.
 *
 * @example
 * const { name, ...options } = CodecSpec.parse("topk:0.1+int8"); // name "topk-int8", options { fraction: 0.1 }
 * const bytes = encodeUpdate(delta, name, { ...options, rng });
 */
export const CodecSpec = z.string().transform((text, ctx): ParsedSpec => {
  const parsed = parseSpec(text);
  if (typeof parsed !== "string") return parsed;
  ctx.addIssue({ code: "custom", message: parsed });
  return z.NEVER;
});
export type CodecSpec = z.output<typeof CodecSpec>;

/**
 * A codec spec kept as text, in its canonical spelling (`formatCodecSpec`): what configs, tasks
 * and manifests carry, so that a spec compares equal to itself as a string.
 *
 * @example
 * CodecSpecText.parse("topk:.10+int8"); // "topk:0.1+int8"
 */
export const CodecSpecText = CodecSpec.transform(formatCodecSpec);

/**
 * The canonical spelling of a parsed spec, which `CodecSpec` parses back to it.
 *
 * @example
 * formatCodecSpec({ name: "randk-int8", fraction: 0.25 }); // "randk:0.25+int8"
 */
export function formatCodecSpec(spec: CodecSpec): string {
  const [first, values] = spec.name.split("-");
  if (values !== undefined) return `${first}:${spec.fraction ?? DEFAULT_FRACTION}+${values}`;
  return spec.chunkSize === undefined ? spec.name : `${spec.name}:${spec.chunkSize}`;
}

function parseSpec(text: string): ParsedSpec | string {
  const parts = text.split("+");
  if (parts.length > 2) return `unknown codec "${text}": expected ${EXPECTED}`;
  const [head = "", values] = parts;
  const [first = "", argument, ...extra] = head.split(":");
  if (SPARSIFIERS.includes(first)) {
    if (values === undefined || argument === undefined || extra.length > 0) {
      return `codec "${text}": expected ${first}:FRACTION+VALUES, e.g. ${first}:0.1+int8`;
    }
    const fraction = /^(\d+\.?\d*|\.\d+)(e-?\d+)?$/i.test(argument) ? Number(argument) : Number.NaN;
    if (!(fraction > 0 && fraction <= 1)) return `codec "${text}": the fraction must be a number in (0, 1], got "${argument}"`;
    if (values.includes(":")) return `codec "${text}": sparse codecs keep a fixed chunk size, remove ":${values.split(":")[1]}"`;
    const name = CodecName.safeParse(`${first}-${values}`);
    if (!name.success) {
      const taken = CodecName.options.filter((n) => n.startsWith(`${first}-`)).map((n) => n.slice(first.length + 1));
      return `codec "${text}": ${first} takes ${taken.join(" or ")} values, not "${values}"`;
    }
    return { name: name.data, fraction };
  }
  const name = CodecName.safeParse(first);
  if (values !== undefined || extra.length > 0 || !name.success || name.data.includes("-")) return `unknown codec "${text}": expected ${EXPECTED}`;
  if (argument === undefined) return { name: name.data };
  if (!CHUNKED.includes(name.data)) return `codec "${text}": ${name.data} takes no chunk size`;
  const chunkSize = /^\d+$/.test(argument) ? Number(argument) : Number.NaN;
  if (!(chunkSize >= 1 && chunkSize <= 0xffffffff)) {
    return `codec "${text}": the chunk size must be an integer from 1 to 4294967295, got "${argument}"`;
  }
  return { name: name.data, chunkSize };
}
