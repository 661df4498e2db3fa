import { CodecSpec, encodedSize } from "../../core/codec/index.ts";
import { modelLayout, type Layout, outputCount } from "../../core/model/layout.ts";
import type { FederationConfig } from "../../core/schemas/federation.ts";
import type { Preprocessing } from "../../core/schemas/preprocessing.ts";
import { createStrategy } from "../../core/strategy/create-strategy.ts";
import type { Strategy } from "../../core/strategy/strategy.ts";
import { updateLength } from "../../core/strategy/update-length.ts";

export interface UpdateShape {
  readonly strategy: Strategy;
  readonly layout: Layout;
  /** Values in one site update (the body delta, then the control delta for SCAFFOLD). */
  readonly length: number;
  /** The federation's codec spec, parsed. */
  readonly codec: CodecSpec;
  /** Bytes of one encoded update under the federation's codec. */
  readonly byteLength: number;
}

/** What one site update must look like, from the federation's model, preprocessing, strategy and codec. */
export function updateShape(config: FederationConfig, prep: Preprocessing): UpdateShape {
  const strategy = createStrategy(config.strategy);
  const layout = modelLayout(config.model, prep.inputs.length, outputCount(prep.label));
  const length = updateLength(strategy, layout.bodySize);
  const codec = CodecSpec.parse(config.codec);
  const { name, ...options } = codec;
  return { strategy, layout, length, codec, byteLength: encodedSize(length, name, options) };
}
