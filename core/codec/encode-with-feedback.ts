import { decodeUpdate } from "./decode-update.ts";

/**
 * Error feedback (Seide et al., "1-Bit Stochastic Gradient Descent", Interspeech 2014; Stich et
 * al., "Sparsified SGD with Memory", NeurIPS 2018; Karimireddy et al., "Error Feedback Fixes
 * SignSGD", ICML 2019): encodes `delta + residual`, where `residual` is what compression dropped
 * from the site's last accepted update, and returns the bytes with the new residual
 * `(delta + residual) − decode(bytes)`. Across rounds, what was sent plus the final residual adds
 * up to the deltas (up to float32 rounding), so top-k's dropped coordinates arrive late instead of
 * never. The caller keeps the new residual only once the coordinator has accepted the bytes.
 *
 * @example
 * const { bytes, residual } = encodeWithFeedback(delta, saved, (v) => encodeUpdate(v, "topk-int8", { fraction: 0.1 }));
 */
export function encodeWithFeedback(
  delta: Float32Array,
  residual: Float32Array | null,
  encode: (values: Float32Array) => Uint8Array,
): { bytes: Uint8Array; residual: Float32Array } {
  const corrected = Float32Array.from(delta);
  if (residual !== null) for (let i = 0; i < corrected.length; i++) corrected[i]! += residual[i] ?? 0;
  const bytes = encode(corrected);
  const sent = decodeUpdate(bytes, { length: corrected.length }).values;
  for (let i = 0; i < corrected.length; i++) corrected[i]! -= sent[i]!;
  return { bytes, residual: corrected };
}
