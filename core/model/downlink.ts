import { CodecSpec, decodeUpdate, encodeUpdate, type UpdateExpectations } from "../codec/index.ts";

/**
 * The compressed down-link (compression both ways with error feedback on the server, Tang et al.,
 * "DoubleSqueeze", ICML 2019). Each round the coordinator sends the sites that hold the previous
 * model one compressed delta instead of the whole float32 model, and the model of the round *is*
 * what those sites then hold, `held + decode(delta)`, so coordinator and sites agree bit for bit
 * and a site checks the result against the model's sha256. The strategy's next model is built on
 * that held model, so what compression leaves out of a move would be lost for good: the
 * coordinator keeps it (`residual`) and adds it to the next move, so it arrives late rather than
 * never — held model + residual follows the uncompressed trajectory. A site that does not hold
 * the previous model downloads the whole model, as before.
 *
 * @example
 * const step = downlinkStep(global, result.model, savedResidual, CodecSpec.parse("int8"), rng);
 * // publish step.model as the new version, step.bytes as its delta, keep step.residual beside it
 */
export function downlinkStep(
  held: Float32Array,
  target: Float32Array,
  residual: Float32Array | null,
  codec: CodecSpec,
  rng: () => number,
): { bytes: Uint8Array; model: Float32Array; residual: Float32Array } {
  if (target.length !== held.length) throw new RangeError(`target has ${target.length} values, the held model ${held.length}`);
  if (residual !== null && residual.length !== held.length) throw new RangeError(`residual has ${residual.length} values, the held model ${held.length}`);
  const move = new Float32Array(held.length);
  for (let i = 0; i < move.length; i++) move[i] = target[i]! - held[i]! + (residual?.[i] ?? 0);
  const { name, ...options } = codec;
  const bytes = encodeUpdate(move, name, { ...options, rng });
  const sent = decodeUpdate(bytes, { length: move.length }).values;
  const model = new Float32Array(held.length);
  for (let i = 0; i < move.length; i++) {
    model[i] = held[i]! + sent[i]!;
    move[i] = move[i]! - sent[i]!;
  }
  return { bytes, model, residual: move };
}

/**
 * The model a site holds after a down-link delta: `held + decode(bytes)` in float32, the same
 * arithmetic on the coordinator and the site. Throws `UpdateFormatError` for a malformed delta.
 */
export function applyDownlink(held: Float32Array, bytes: Uint8Array, expected: Omit<UpdateExpectations, "length"> = {}): Float32Array {
  const { values } = decodeUpdate(bytes, { ...expected, length: held.length });
  for (let i = 0; i < values.length; i++) values[i] = held[i]! + values[i]!;
  return values;
}
