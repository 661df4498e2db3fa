import { z } from "zod";

/**
 * The codecs an update may use. The name is what the container's id stands for; round configs
 * carry a codec spec (`codec-spec.ts`), which names one of these and its options.
 *
 * @example
 * const codec = CodecName.parse(name); // "float32" | "float16" | "int8" | "int4" | "topk-int8" | …
 */
export const CodecName = z.enum(["float32", "float16", "int8", "int4", "topk-int8", "randk-int8", "topk-float16"]);
export type CodecName = z.infer<typeof CodecName>;
