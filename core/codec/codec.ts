/**
 * @module
 * The shape every codec implements. A codec only sees its own payload: the container
 * (`container.ts`) owns the header, the size check and the checksum, so adding a codec is one
 * file plus one registry entry.
 */

export interface CodecOptions {
  /** Values per quantisation chunk, for chunked codecs (int8, int4). Ignored by float32 and float16. */
  readonly chunkSize?: number;
  /**
   * Uniform draws in [0, 1) for stochastic rounding (int8, int4); without one they round to
   * nearest. Seed it so that re-encoding the same delta gives the same bytes.
   */
  readonly rng?: () => number;
}

export interface Codec {
  /** Wire id stored in the header. Never reuse an id, even after a codec is retired. */
  readonly id: number;
  /** The header's codec parameter for these options (e.g. the chunk size). */
  param(options: CodecOptions): number;
  /** Why `param` is not valid for this codec, or `undefined` when it is. */
  checkParam(param: number): string | undefined;
  payloadBytes(length: number, param: number): number;
  /**
   * Writes the payload for finite `values` into `payload`, which is zero-filled. Quantising
   * codecs round stochastically with `rng` when given; the others ignore it.
   */
  encode(values: Float32Array, param: number, payload: DataView, rng: (() => number) | undefined): void;
  /**
   * Why the payload would decode to a non-finite value, or `undefined`. It runs before
   * `decode`/`accumulate` so that a bad update never leaves an aggregate half-written.
   */
  checkPayload(payload: DataView, length: number, param: number): string | undefined;
  /** Writes the decoded values into `out` (which has exactly `length` elements). */
  decode(payload: DataView, length: number, param: number, out: Float32Array): void;
  /** `out[i] += weight * value[i]`, giving the same float32 results as `decode` then axpy. */
  accumulate(payload: DataView, length: number, param: number, out: Float32Array, weight: number): void;
}
