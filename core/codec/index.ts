/**
 * @module
 * Update codecs: model deltas as checksummed binary containers (layout in `container.ts`), with
 * a registry of codecs (`registry.ts`) that new codecs join by adding one file and one entry, and
 * the codec specs that federations name them by (`codec-spec.ts`).
 */
export type { CodecOptions } from "./codec.ts";
export { CodecName } from "./codec-name.ts";
export { CodecSpec, CodecSpecText, formatCodecSpec } from "./codec-spec.ts";
export { decodeUpdate } from "./decode-update.ts";
export { decodeUpdateInto } from "./decode-update-into.ts";
export { encodeUpdate } from "./encode-update.ts";
export { encodeWithFeedback } from "./encode-with-feedback.ts";
export { encodedSize } from "./encoded-size.ts";
export type { UpdateExpectations } from "./expect-update.ts";
export { usesErrorFeedback } from "./registry.ts";
export { sha256Hex } from "./sha256-hex.ts";
export { sharedSeed } from "./shared-seed.ts";
