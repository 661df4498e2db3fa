/**
 * @module
 * The update container: one self-describing, checksummed byte array per model delta.
 *
 * ```text
 * offset  size  field
 *      0     4  magic "CNSL" (0x43 0x4e 0x53 0x4c)
 *      4     1  format version, u8 = 1
 *      5     1  codec id, u8 (float32 1, int8 2, float16 3, int4 4, randk-int8 6, topk-int8 8,
 *                topk-float16 9; see the codec modules). Retired, never to be reused: 5 and 7,
 *                top-k int8 and float16 with Elias–Fano positions; an update with either
 *                fails UNKNOWN_CODEC
 *      6     2  reserved, u16 = 0
 *      8     4  element count, u32: length of the decoded float vector
 *     12     4  codec parameter, u32 (int8, int4: chunk size; sparse codecs: values kept;
 *                float32, float16: 0)
 *     16     P  payload, P = codec.payloadBytes(count, parameter)
 *   16+P    32  SHA-256 of bytes [0, 16+P)
 * ```
 *
 * Integers are little-endian. The total size follows from the header alone, which lets the
 * coordinator presign an upload for an exact size and reject a wrong-sized object before
 * hashing or allocating anything.
 */
import { createHash } from "node:crypto";
import { UpdateFormatError } from "../errors.ts";
import { checkLength } from "./check-length.ts";
import type { Codec } from "./codec.ts";
import type { CodecName } from "./codec-name.ts";
import { codecNameById, codecs, knownCodecIds } from "./registry.ts";

export const HEADER_BYTES = 16;
export const CHECKSUM_BYTES = 32;
export const FORMAT_VERSION = 1;
const MAGIC = [0x43, 0x4e, 0x53, 0x4c];

/** A container whose structure and checksum have been verified. */
export interface Container {
  readonly name: CodecName;
  readonly codec: Codec;
  readonly length: number;
  readonly param: number;
  readonly payload: DataView;
}

export function containerBytes(codec: CodecName, length: number, param: number): number {
  checkLength(length);
  return HEADER_BYTES + codecs[codec].payloadBytes(length, param) + CHECKSUM_BYTES;
}

/** Lays out header and checksum around a payload that `fill` writes. */
export function writeContainer(
  name: CodecName,
  length: number,
  param: number,
  fill: (payload: DataView) => void,
): Uint8Array {
  const bytes = new Uint8Array(containerBytes(name, length, param));
  const view = new DataView(bytes.buffer);
  const end = bytes.length - CHECKSUM_BYTES;
  bytes.set(MAGIC, 0);
  view.setUint8(4, FORMAT_VERSION);
  view.setUint8(5, codecs[name].id);
  view.setUint32(8, length, true);
  view.setUint32(12, param, true);
  fill(new DataView(bytes.buffer, HEADER_BYTES, end - HEADER_BYTES));
  bytes.set(createHash("sha256").update(bytes.subarray(0, end)).digest(), end);
  return bytes;
}

/** What an update's 16-byte header says: its codec, value count and codec parameter. */
export interface Header {
  readonly name: CodecName;
  readonly codec: Codec;
  readonly length: number;
  readonly param: number;
  /** The container's whole size, which follows from the header. */
  readonly byteLength: number;
}

/**
 * Parses and checks the first `HEADER_BYTES` of an update (magic, version, codec, reserved field,
 * parameter); throws `UpdateFormatError`. A streaming reader calls it before the rest arrives.
 */
export function readHeader(bytes: Uint8Array): Header {
  if (bytes.length < HEADER_BYTES) {
    fail("TRUNCATED", `update has ${bytes.length} bytes, fewer than the ${HEADER_BYTES + CHECKSUM_BYTES} of a header and checksum`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  if (MAGIC.some((byte, i) => bytes[i] !== byte)) {
    fail("BAD_MAGIC", `update starts with 0x${hex(bytes.subarray(0, 4))}, not the magic "CNSL"`);
  }
  const version = view.getUint8(4);
  if (version !== FORMAT_VERSION) {
    fail("UNSUPPORTED_VERSION", `update has format version ${version}, only ${FORMAT_VERSION} is supported`);
  }
  const id = view.getUint8(5);
  const name = codecNameById(id);
  if (name === undefined) fail("UNKNOWN_CODEC", `update has codec id ${id}, known ids are ${knownCodecIds()}`);
  const reserved = view.getUint16(6, true);
  if (reserved !== 0) fail("BAD_HEADER", `update has reserved field ${reserved}, expected 0`);
  const codec = codecs[name];
  const length = view.getUint32(8, true);
  const param = view.getUint32(12, true);
  const problem = codec.checkParam(param, length);
  if (problem !== undefined) fail("BAD_HEADER", `update header is invalid: ${problem}`);
  return { name, codec, length, param, byteLength: containerBytes(name, length, param) };
}

/** Verifies everything but the values themselves; throws `UpdateFormatError`. */
export function openContainer(bytes: Uint8Array): Container {
  if (bytes.length < HEADER_BYTES + CHECKSUM_BYTES) {
    fail("TRUNCATED", `update has ${bytes.length} bytes, fewer than the ${HEADER_BYTES + CHECKSUM_BYTES} of a header and checksum`);
  }
  const { name, codec, length, param, byteLength } = readHeader(bytes);
  if (bytes.length !== byteLength) {
    fail("SIZE_MISMATCH", `update has ${bytes.length} bytes, its header implies ${byteLength}`);
  }
  const end = bytes.length - CHECKSUM_BYTES;
  const stored = bytes.subarray(end);
  const actual = createHash("sha256").update(bytes.subarray(0, end)).digest();
  if (!actual.equals(stored)) {
    fail("CHECKSUM_MISMATCH", `update checksum is ${hex(stored)}, but its contents hash to ${hex(actual)}`);
  }
  const payload = new DataView(bytes.buffer, bytes.byteOffset + HEADER_BYTES, end - HEADER_BYTES);
  return { name, codec, length, param, payload };
}

function fail(code: string, message: string): never {
  throw new UpdateFormatError(code, message);
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
