import { z } from "zod";

/**
 * The codecs an update may use. The name is what round configs and manifests carry; the
 * container stores the codec's numeric wire id instead.
 *
 * @example
 * const codec = CodecName.parse(round.codec); // "float32" | "float16" | "int8" | "int4"
 */
export const CodecName = z.enum(["float32", "float16", "int8", "int4"]);
export type CodecName = z.infer<typeof CodecName>;
