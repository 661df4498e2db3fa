import { ConsiliumError } from "../../core/errors.ts";
import { decodeUpdate, sha256Hex, type CodecName } from "../../core/codec/index.ts";
import type { ObjectStore } from "../ports.ts";
import { keys } from "../keys.ts";

/** Reads a site's uploaded update and checks it against its manifest and the model's size. */
export async function verifyUpdate(
  store: ObjectStore,
  round: number,
  siteId: string,
  expected: { sha256: string; byteLength: number; length: number; codec: CodecName },
): Promise<Float32Array> {
  const bytes = await store.get(keys.updateBin(round, siteId));
  if (bytes === null) throw new ConsiliumError("MISSING_UPDATE", `no update uploaded for site ${siteId} in round ${round}`, 422);
  if (bytes.length !== expected.byteLength) {
    throw new ConsiliumError("SIZE_MISMATCH", `update is ${bytes.length} bytes, manifest says ${expected.byteLength}`, 422);
  }
  if (sha256Hex(bytes) !== expected.sha256) throw new ConsiliumError("CHECKSUM_MISMATCH", "update bytes do not match the manifest's sha256", 422);
  return decodeUpdate(bytes, { length: expected.length, codec: expected.codec }).values;
}
