import { ConsiliumError } from "../../core/errors.ts";
import { CodecSpec, decodeUpdate, sha256Hex } from "../../core/codec/index.ts";
import type { ObjectStore } from "../ports.ts";

/**
 * Reads an update's bytes from `key` and checks them against its manifest, the model's size, the
 * federation's codec spec (`codec`), the round's shared seed when given (for seeded codecs) and
 * the federation's bound on update values; `missing` is the message when there is nothing under
 * the key. The bytes are returned with their values so that the caller can keep exactly what was
 * verified.
 */
export async function verifyUpdate(
  store: ObjectStore,
  key: string,
  expected: { sha256: string; byteLength: number; length: number; codec: string; seed?: number; maxAbs: number },
  missing: string,
): Promise<{ bytes: Uint8Array; values: Float32Array }> {
  const bytes = await store.get(key);
  if (bytes === null) throw new ConsiliumError("MISSING_UPDATE", missing, 422);
  if (bytes.length !== expected.byteLength) {
    throw new ConsiliumError("SIZE_MISMATCH", `update is ${bytes.length} bytes, manifest says ${expected.byteLength}`, 422);
  }
  if (sha256Hex(bytes) !== expected.sha256) throw new ConsiliumError("CHECKSUM_MISMATCH", "update bytes do not match the manifest's sha256", 422);
  const { values } = decodeUpdate(bytes, { length: expected.length, codec: CodecSpec.parse(expected.codec).name, seed: expected.seed });
  const largest = maxAbs(values);
  // Finite but huge values from one site would overflow the aggregate and jam every later round.
  if (largest > expected.maxAbs) {
    throw new ConsiliumError("UPDATE_OUT_OF_RANGE", `update holds a value of magnitude ${Number(largest.toPrecision(6))}, above the federation's bound of ${expected.maxAbs}`, 422);
  }
  return { bytes, values };
}

function maxAbs(values: Float32Array): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]!);
    if (a > m) m = a;
  }
  return m;
}
