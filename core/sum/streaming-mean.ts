import { createHash, type Hash } from "node:crypto";
import type { Codec } from "../codec/codec.ts";
import type { CodecName } from "../codec/codec-name.ts";
import type { CodecSpec } from "../codec/codec-spec.ts";
import { CHECKSUM_BYTES, containerBytes, HEADER_BYTES, hex, openContainer, readHeader, type Header } from "../codec/container.ts";
import { expectUpdate } from "../codec/expect-update.ts";
import { codecs, resolveParam } from "../codec/registry.ts";
import { sha256Hex } from "../codec/sha256-hex.ts";
import { ConsiliumError, UpdateFormatError } from "../errors.ts";
import { ByteReader } from "./byte-reader.ts";
import { SumArena } from "./sum-arena.ts";

/** One update to be summed: where its bytes come from and its weight. */
export interface UpdateSource {
  /** Names the update in results and errors (a site id). */
  readonly id: string;
  /** Its weight in the mean (a site's samples), positive. */
  readonly weight: number;
  /** The container's SHA-256 in hex when known beforehand (a manifest's); checked after the last byte. */
  readonly sha256?: string;
  /**
   * A fresh stream of the update's bytes from the first, called again if the sum has to start
   * over. A `ConsiliumError` with a 4xx status (such as a missing object) rejects the update;
   * anything else (a network failure) aborts the sum.
   */
  open(): Promise<AsyncIterable<Uint8Array>>;
}

export interface StreamingMeanOptions {
  /** Values every update must hold. */
  readonly length: number;
  /** The round's codec: every update must use it, with the parameter (chunk size, values kept) it implies for `length`. */
  readonly codec: CodecSpec;
  /** Largest magnitude an update's values may decode to (the federation's bound); above it the update is rejected. */
  readonly maxAbs: number;
  /** Values read from each update per step (rounded up to the codec's piece unit); default 65,536. */
  readonly pieceValues?: number;
  /** Updates read side by side (an HTTP client's connection pool must allow as many); default 32. */
  readonly concurrency?: number;
  /** The round's shared seed, checked against a seeded codec's. */
  readonly seed?: number;
}

export interface StreamingMean {
  /** The weight-normalised sum of the kept updates (zeros when none is kept). */
  readonly mean: Float32Array;
  readonly kept: readonly UpdateSource[];
  readonly rejected: readonly { readonly source: UpdateSource; readonly error: ConsiliumError }[];
  /** Passes over the updates: one, plus one for each update rejected after summing had begun. */
  readonly passes: number;
  /** Bytes of the arena the sum was taken in: the float32 sum and one piece per update read side by side. */
  readonly arenaBytes: number;
}

const DEFAULT_PIECE_VALUES = 65_536;
const DEFAULT_CONCURRENCY = 32;

/** One update refused; the pass that found it starts over without it. */
class Rejected extends Error {
  constructor(readonly source: UpdateSource, readonly error: ConsiliumError) {
    super(error.message);
  }
}

/** The shape every update of the round must have, fixed before any arrives. */
interface Plan {
  readonly name: CodecName;
  readonly codec: Codec;
  readonly length: number;
  readonly param: number;
  readonly byteLength: number;
  /** Values per piece for a codec read in pieces (a multiple of its unit), or 0 for one read whole. */
  readonly pieceValues: number;
  readonly maxAbs: number;
  readonly seed?: number;
}

/**
 * The weighted mean of updates read as streams, piece by piece: the float32 sum plus one piece
 * of each of up to `concurrency` updates read side by side is all the memory it takes, whatever
 * the number of sites. (A sparse codec's update cannot be read in pieces; it is read whole, one
 * update at a time.) Each update is checked as it arrives with the checks of `decodeUpdate`
 * (header, codec and parameter, size, well-formed and finite values, checksum) and the value
 * bound; one that fails is rejected and the sum starts over without it, so a bad update costs
 * one more pass and never a partly summed result. Every coordinate adds the updates in the
 * order given, so the same updates give the same bytes.
 *
 * Weights are normalised by their total over the kept updates and rounded to float32, and sums
 * are float32 (int8 pieces through the fused WebAssembly kernel, `SumArena`): the mean agrees
 * with decoding every update and averaging in float64 to within float32 rounding per update.
 */
export async function streamingMean(sources: readonly UpdateSource[], options: StreamingMeanOptions): Promise<StreamingMean> {
  const concurrency = Math.max(1, Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, sources.length));
  const plan = planFor(options);
  const slotBytes = plan.pieceValues > 0 ? plan.codec.payloadBytes(plan.pieceValues, plan.param) : 0;
  const arena = new SumArena(options.length, plan.pieceValues > 0 ? concurrency : 0, slotBytes);
  const rejected: { source: UpdateSource; error: ConsiliumError }[] = [];
  let live = [...sources];
  for (let passes = 1; ; passes++) {
    arena.sum.fill(0);
    const total = live.reduce((n, s) => n + s.weight, 0);
    try {
      for (let g = 0; g < live.length; g += concurrency) {
        const group = live.slice(g, g + concurrency);
        if (plan.pieceValues > 0) await sumInPieces(group, total, arena, plan);
        else for (const source of group) await sumWhole(source, total, arena, plan);
      }
      return { mean: arena.sum, kept: live, rejected, passes, arenaBytes: arena.bytes };
    } catch (err) {
      if (!(err instanceof Rejected)) throw err;
      rejected.push({ source: err.source, error: err.error });
      live = live.filter((s) => s !== err.source);
    }
  }
}

function planFor({ codec: spec, length, maxAbs, seed, pieceValues = DEFAULT_PIECE_VALUES }: StreamingMeanOptions): Plan {
  const codec = codecs[spec.name];
  const param = resolveParam(spec.name, spec, length);
  const unit = codec.pieceUnit?.(param);
  const piece = unit === undefined ? 0 : Math.min(Math.ceil(Math.max(1, pieceValues) / unit) * unit, Math.ceil(length / unit) * unit);
  return { name: spec.name, codec, length, param, byteLength: containerBytes(spec.name, length, param), pieceValues: piece, maxAbs, ...(seed !== undefined && { seed }) };
}

interface Opened {
  readonly reader: ByteReader;
  readonly hash: Hash;
  readonly header: Uint8Array;
}

/** Opens an update and checks its header against the plan; a 4xx failure rejects the update. */
async function open(source: UpdateSource, plan: Plan): Promise<Opened> {
  let reader: ByteReader;
  try {
    reader = new ByteReader(await source.open());
  } catch (err) {
    throw rejectable(source, err);
  }
  try {
    const header = new Uint8Array(HEADER_BYTES);
    await reader.readInto(header);
    checkHeader(readHeader(header), plan);
    return { reader, hash: createHash("sha256").update(header), header };
  } catch (err) {
    await reader.close();
    throw rejectable(source, err);
  }
}

function checkHeader(header: Header, plan: Plan): void {
  if (header.length !== plan.length) throw new UpdateFormatError("LENGTH_MISMATCH", `update has ${header.length} values, expected ${plan.length}`);
  if (header.name !== plan.name) throw new UpdateFormatError("CODEC_MISMATCH", `update uses codec ${header.name}, expected ${plan.name}`);
  if (header.param !== plan.param) {
    throw new UpdateFormatError("PARAM_MISMATCH", `update has codec parameter ${header.param}, the round's codec implies ${plan.param}`);
  }
}

/** A 4xx `ConsiliumError` rejects the update; anything else is returned to be rethrown as it is. */
function rejectable(source: UpdateSource, err: unknown): unknown {
  return err instanceof ConsiliumError && err.status >= 400 && err.status < 500 ? new Rejected(source, err) : err;
}

/** The checksum that ends the container, against the bytes read and the expected one; then nothing may follow. */
async function finish(source: UpdateSource, { reader, hash }: Opened): Promise<void> {
  try {
    const stored = new Uint8Array(CHECKSUM_BYTES);
    await reader.readInto(stored);
    // The manifest's hash covers the checksum too: the same running hash, one trailer further.
    const whole = source.sha256 === undefined ? undefined : hash.copy().update(stored).digest("hex");
    const actual = hash.digest();
    if (!actual.equals(stored)) throw new UpdateFormatError("CHECKSUM_MISMATCH", `update checksum is ${hex(stored)}, but its contents hash to ${hex(actual)}`);
    if (whole !== undefined && whole !== source.sha256) {
      throw new UpdateFormatError("CHECKSUM_MISMATCH", "update bytes do not match the manifest's sha256");
    }
    await reader.expectEnd();
  } catch (err) {
    throw rejectable(source, err);
  }
}

function outOfRange(largest: number, maxAbs: number): UpdateFormatError {
  return new UpdateFormatError(
    "UPDATE_OUT_OF_RANGE",
    `update holds a value of magnitude ${Number(largest.toPrecision(6))}, above the federation's bound of ${maxAbs}`,
  );
}

/** Reads every update of the group a piece at a time, side by side, adding each piece into the sum in update order. */
async function sumInPieces(group: readonly UpdateSource[], total: number, arena: SumArena, plan: Plan): Promise<void> {
  const settled = await Promise.allSettled(group.map((s) => open(s, plan)));
  const opened = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  try {
    for (const r of settled) if (r.status === "rejected") throw r.reason;
    const scratch = plan.name === "int8" ? undefined : new Float32Array(plan.pieceValues);
    const weights = group.map((s) => s.weight / total);
    for (let start = 0; start < plan.length; start += plan.pieceValues) {
      const n = Math.min(plan.pieceValues, plan.length - start);
      const bytes = plan.codec.payloadBytes(n, plan.param);
      // Settled, not all: no read may still be filling a slot once this pass is abandoned.
      const reads = await Promise.allSettled(
        group.map(async (source, i) => {
          const slot = arena.slot(i).subarray(0, bytes);
          try {
            await opened[i]!.reader.readInto(slot);
          } catch (err) {
            throw rejectable(source, err);
          }
          opened[i]!.hash.update(slot);
        }),
      );
      for (const r of reads) if (r.status === "rejected") throw r.reason;
      for (let i = 0; i < group.length; i++) {
        const source = group[i]!;
        const slot = arena.slot(i);
        const payload = new DataView(slot.buffer, slot.byteOffset, bytes);
        const problem = plan.codec.checkPayload(payload, n, plan.param);
        if (problem !== undefined) throw new Rejected(source, new UpdateFormatError(problem.code, `${problem.message} (in the values from ${start})`));
        if (scratch === undefined) {
          const largest = plan.codec.largest!(payload, n, plan.param, plan.maxAbs);
          if (largest > plan.maxAbs) throw new Rejected(source, outOfRange(largest, plan.maxAbs));
        } else {
          const values = scratch.subarray(0, n);
          plan.codec.decode(payload, n, plan.param, values);
          const largest = maxAbs(values);
          if (largest > plan.maxAbs) throw new Rejected(source, outOfRange(largest, plan.maxAbs));
          addScaled(values, arena.sum, start, weights[i]!);
        }
      }
      // Every piece of the group checked: int8 pieces go through the kernel together, sites in order.
      if (scratch === undefined) arena.accumulateInt8Sites(0, weights, n, plan.param, start);
    }
    for (let i = 0; i < group.length; i++) await finish(group[i]!, opened[i]!);
  } finally {
    await Promise.all(opened.map((o) => o.reader.close()));
  }
}

/** Reads one update whole (a codec that cannot be read in pieces), checks it and adds it into the sum. */
async function sumWhole(source: UpdateSource, total: number, arena: SumArena, plan: Plan): Promise<void> {
  const opened = await open(source, plan);
  try {
    const bytes = new Uint8Array(plan.byteLength);
    bytes.set(opened.header);
    try {
      await opened.reader.readInto(bytes.subarray(HEADER_BYTES));
      await opened.reader.expectEnd();
      const container = openContainer(bytes);
      expectUpdate(container, { length: plan.length, codec: plan.name, ...(plan.seed !== undefined && { seed: plan.seed }) });
      if (source.sha256 !== undefined && sha256Hex(bytes) !== source.sha256) {
        throw new UpdateFormatError("CHECKSUM_MISMATCH", "update bytes do not match the manifest's sha256");
      }
      const largest = container.codec.largest?.(container.payload, plan.length, plan.param) ?? Number.POSITIVE_INFINITY;
      if (largest > plan.maxAbs) throw outOfRange(largest, plan.maxAbs);
      container.codec.accumulate(container.payload, plan.length, plan.param, arena.sum, Math.fround(source.weight / total));
    } catch (err) {
      throw rejectable(source, err);
    }
  } finally {
    await opened.reader.close();
  }
}

function maxAbs(values: Float32Array): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
}

/** `sum[at + i] += fround(fround(weight) × values[i])` in float32, as the int8 kernel adds. */
function addScaled(values: Float32Array, sum: Float32Array, at: number, weight: number): void {
  const w = Math.fround(weight);
  for (let i = 0; i < values.length; i++) sum[at + i] = Math.fround(sum[at + i]! + Math.fround(w * values[i]!));
}
