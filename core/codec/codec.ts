/**
 * @module
 * The shape every codec implements. A codec only sees its own payload: the container
 * (`container.ts`) owns the header, the size check and the checksum, so adding a codec is one
 * file plus one registry entry.
 */

export interface CodecOptions {
  /** Values per quantisation chunk, for chunked codecs (int8, int4). Ignored by the others. */
  readonly chunkSize?: number;
  /**
   * Share of the coordinates a sparse codec (topk-*, randk-*) keeps, in (0, 1]: it keeps
   * `keptCount(fraction, length)` of them (default 0.1). Ignored by dense codecs.
   */
  readonly fraction?: number;
  /**
   * The 32-bit seed a seeded codec (randk-*) draws its coordinates from (default 0). Every site
   * of a round uses the round's shared seed (`sharedSeed`), which the coordinator checks.
   */
  readonly seed?: number;
  /**
   * Uniform draws in [0, 1) for stochastic rounding (int8, int4 and the sparse codecs' int8
   * values); without one they round to nearest. Seed it so that re-encoding the same delta gives
   * the same bytes.
   */
  readonly rng?: () => number;
}

/** What is wrong with a payload of the right size; checked before anything is decoded. */
export interface PayloadProblem {
  /** `BAD_INDICES`: a sparse payload's coordinates are malformed. `NON_FINITE`: a value would decode non-finite. */
  readonly code: "BAD_INDICES" | "NON_FINITE";
  readonly message: string;
}

export interface Codec {
  /** Wire id stored in the header. Never reuse an id, even after a codec is retired. */
  readonly id: number;
  /**
   * Whether a site should carry what this codec drops into its next update (error feedback,
   * `encode-with-feedback.ts`): true for biased compressors such as top-k, whose dropped
   * coordinates would otherwise never reach the model.
   */
  readonly errorFeedback?: boolean;
  /**
   * For a codec whose payload can be read in pieces (the dense ones): the number of values a
   * piece must be a multiple of (the chunk size; 1 for float32 and float16). The values
   * `[a, a + n)` with `a` such a multiple then take `payloadBytes(n, param)` bytes from offset
   * `payloadBytes(a, param)`, and those bytes are a payload of `n` values in their own right, so
   * an aggregator can check, decode and sum an update piece by piece as it streams in. Absent
   * for codecs that must be read whole (sparse ones, whose coordinates come first).
   */
  pieceUnit?(param: number): number;
  /** The header's codec parameter for these options and `length` values (e.g. the chunk size). */
  param(options: CodecOptions, length: number): number;
  /** Why `param` is not valid for `length` values of this codec, or `undefined` when it is. */
  checkParam(param: number, length: number): string | undefined;
  payloadBytes(length: number, param: number): number;
  /**
   * Writes the payload for finite `values` into `payload`, which is zero-filled. Quantising
   * codecs round stochastically with `options.rng` when given; the others ignore it.
   */
  encode(values: Float32Array, param: number, payload: DataView, options: CodecOptions): void;
  /**
   * Why the payload is malformed or would decode to a non-finite value, or `undefined`. It runs
   * before `decode`/`accumulate` so that a bad update never leaves an aggregate half-written.
   */
  checkPayload(payload: DataView, length: number, param: number): PayloadProblem | undefined;
  /** The shared seed a seeded codec's payload was drawn from; absent for codecs without one. */
  seed?(payload: DataView): number;
  /**
   * The largest magnitude the payload decodes to, without writing the decoded vector: how an
   * aggregator checks the federation's value bound. With `bound`, a codec may skip what cannot
   * pass it (int8: a chunk whose scale keeps every code within it) and answer a smaller number;
   * the answer is above `bound` exactly when some value is.
   */
  largest?(payload: DataView, length: number, param: number, bound?: number): number;
  /** Writes the decoded values into `out` (which has exactly `length` elements). */
  decode(payload: DataView, length: number, param: number, out: Float32Array): void;
  /** `out[i] += weight * value[i]`, giving the same float32 results as `decode` then axpy. */
  accumulate(payload: DataView, length: number, param: number, out: Float32Array, weight: number): void;
}

/**
 * A `NON_FINITE` payload problem, what `checkPayload` returns for a value that would not decode finite.
 *
 * @example
 * if (!Number.isFinite(scale)) return nonFinite(`update chunk ${c} has scale ${scale}`);
 */
export function nonFinite(message: string): PayloadProblem {
  return { code: "NON_FINITE", message };
}
