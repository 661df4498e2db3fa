import { CodecSpec, formatCodecSpec } from "../../../core/codec/index.ts";
import { downlinkStep } from "../../../core/model/downlink.ts";
import { seededRandom } from "../../../core/random.ts";
import { downlinkCodecOf, type FederationConfig } from "../../../core/schemas/federation.ts";
import { taskSeed } from "../../../core/schemas/task-seed.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { loadDownlinkResidual, type DownlinkDelta } from "../models.ts";

/** Mixed into the round's seed for the down-link's rounding stream. */
const DOWNLINK_SEED = 0xd0117c;

/**
 * The model to publish for the round: the strategy's, or, with a compressed down-link, what sites
 * holding the base model reach by adding the round's delta (`downlinkStep`), with what the delta
 * left out carried to the next round. The delta's rounding draws from the federation's seed and
 * the round, so a redelivered job publishes the same bytes.
 */
export async function downlink(
  deps: CoordinatorDeps,
  config: FederationConfig,
  round: number,
  baseVersion: number,
  held: Float32Array,
  target: Float32Array,
): Promise<{ model: Float32Array; delta?: DownlinkDelta }> {
  const spec = CodecSpec.parse(downlinkCodecOf(config));
  if (spec.name === "float32") return { model: target };
  const residual = await loadDownlinkResidual(deps, baseVersion, held.length);
  const rng = seededRandom((taskSeed(config.seed, round) ^ DOWNLINK_SEED) >>> 0);
  const step = downlinkStep(held, target, residual, spec, rng);
  return { model: step.model, delta: { from: baseVersion, codec: formatCodecSpec(spec), bytes: step.bytes, residual: step.residual } };
}
