import type { Codec, CodecOptions, PayloadProblem } from "./codec.ts";
import { keptCount } from "./kept-count.ts";

/** Default share of the coordinates a sparse codec keeps. */
export const DEFAULT_FRACTION = 0.1;

/** Which coordinates a sparse update keeps, and how the payload says so (before the values). */
export interface Support {
  /** Bytes at the start of the payload that say which `k` of `length` coordinates are kept. */
  bytes(length: number, k: number): number;
  /** Throws `ConfigError` for an option this support cannot use. */
  checkOptions?(options: CodecOptions): void;
  /** Chooses `k` coordinates of `values`, writes them into `payload`, and returns them in increasing order. */
  write(values: Float32Array, k: number, payload: DataView, options: CodecOptions): Uint32Array;
  /** Reads the kept coordinates into `out`, or returns why they are malformed. */
  read(payload: DataView, length: number, k: number, out: Uint32Array): string | undefined;
  /** Factor on the kept values before they are encoded (n / k makes rand-k unbiased). */
  gain(length: number, k: number): number;
  seed?(payload: DataView): number;
}

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * A sparse codec: the header parameter is `k`, the number of coordinates kept, and the payload is
 * the support's bytes followed by the kept values, `gain × value` in increasing coordinate order,
 * as the payload of the dense codec `values` (with parameter `valuesParam`) for `k` values. The
 * value chunk size must be fixed because the header has room for `k` only, and the size of the
 * payload must follow from the header. Decoding writes 0 at every other coordinate; accumulating
 * touches only the kept ones, which matches decode then axpy except that a -0 in `out` stays -0.
 *
 * @example
 * const topkInt8 = sparseCodec({ id: 8, name: "topk-int8", support: topK, values: int8, valuesParam: 512, errorFeedback: true });
 */
export function sparseCodec(spec: {
  readonly id: number;
  readonly name: string;
  readonly support: Support;
  readonly values: Codec;
  readonly valuesParam: number;
  readonly errorFeedback?: boolean;
}): Codec {
  const { id, name, support, values, valuesParam } = spec;
  const valuesView = (payload: DataView, length: number, k: number) =>
    new DataView(payload.buffer, payload.byteOffset + support.bytes(length, k), values.payloadBytes(k, valuesParam));
  /** The kept coordinates and their decoded values, both in coordinate order. */
  const kept = (payload: DataView, length: number, k: number) => {
    const indices = new Uint32Array(k);
    support.read(payload, length, k, indices);
    const decoded = new Float32Array(k);
    values.decode(valuesView(payload, length, k), k, valuesParam, decoded);
    return { indices, decoded };
  };
  return {
    id,
    errorFeedback: spec.errorFeedback ?? false,

    param(options, length) {
      support.checkOptions?.(options);
      return keptCount(options.fraction ?? DEFAULT_FRACTION, length);
    },

    checkParam: (k, length) =>
      Number.isInteger(k) && k >= 0 && k <= length ? undefined : `${name} keeps 0 to ${length} of its ${length} values, got ${k}`,

    payloadBytes: (length, k) => support.bytes(length, k) + values.payloadBytes(k, valuesParam),

    encode(input, k, payload, options) {
      const indices = support.write(input, k, payload, options);
      const gain = support.gain(input.length, k);
      // A gain above 1 can push a finite float32 past the range; saturate as float16 does.
      const gathered = Float32Array.from(indices, (i) => Math.min(FLOAT32_MAX, Math.max(-FLOAT32_MAX, Math.fround(input[i]! * gain))));
      values.encode(gathered, valuesParam, valuesView(payload, input.length, k), options);
    },

    checkPayload(payload, length, k): PayloadProblem | undefined {
      const problem = support.read(payload, length, k, new Uint32Array(k));
      if (problem !== undefined) return { code: "BAD_INDICES", message: problem };
      const bad = values.checkPayload(valuesView(payload, length, k), k, valuesParam);
      // The dense codec counts kept values, not coordinates: say so.
      return bad && { code: bad.code, message: `update's kept values: ${bad.message.replace(/^update /, "")}` };
    },

    ...(support.seed && { seed: support.seed }),

    largest(payload, length, k) {
      let m = 0;
      for (const v of kept(payload, length, k).decoded) m = Math.max(m, Math.abs(v));
      return m;
    },

    decode(payload, length, k, out) {
      const { indices, decoded } = kept(payload, length, k);
      out.fill(0);
      for (let j = 0; j < k; j++) out[indices[j]!] = decoded[j]!;
    },

    accumulate(payload, length, k, out, weight) {
      const { indices, decoded } = kept(payload, length, k);
      for (let j = 0; j < k; j++) out[indices[j]!]! += weight * decoded[j]!;
    },
  };
}
