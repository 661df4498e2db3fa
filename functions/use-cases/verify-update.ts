import { ConsiliumError } from "../../core/errors.ts";
import { decodeUpdate, sha256Hex, type CodecName } from "../../core/codec/index.ts";
import type { ObjectStore } from "../ports.ts";

/**
 * Reads an update's bytes from `key` and checks them against its manifest and the model's size;
 * `missing` is the message when there is nothing under the key. The bytes are returned with their
 * values so that the caller can keep exactly what was verified.
 */
export async function verifyUpdate(
  store: ObjectStore,
  key: string,
  expected: { sha256: string; byteLength: number; length: number; codec: CodecName },
  missing: string,
): Promise<{ bytes: Uint8Array; values: Float32Array }> {
  const bytes = await store.get(key);
  if (bytes === null) throw new ConsiliumError("MISSING_UPDATE", missing, 422);
  if (bytes.length !== expected.byteLength) {
    throw new ConsiliumError("SIZE_MISMATCH", `update is ${bytes.length} bytes, manifest says ${expected.byteLength}`, 422);
  }
  if (sha256Hex(bytes) !== expected.sha256) throw new ConsiliumError("CHECKSUM_MISMATCH", "update bytes do not match the manifest's sha256", 422);
  return { bytes, values: decodeUpdate(bytes, { length: expected.length, codec: expected.codec }).values };
}
