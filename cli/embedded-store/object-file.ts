/**
 * @module
 * One stored object as one file, so that a rename commits bytes and metadata together: the body,
 * then a JSON trailer (content type, ETag, time), its length as a big-endian uint32 and a magic.
 */
import type { FileHandle } from "node:fs/promises";
import { z } from "zod";

const MAGIC = Buffer.from("CSO1");
const TAIL_BYTES = 8;

export const ObjectMeta = z.object({
  etag: z.string().regex(/^"[0-9a-f]{32}(-\d{1,5})?"$/),
  contentType: z.string().max(256).optional(),
  lastModified: z.number().int().nonnegative(),
});
export type ObjectMeta = z.infer<typeof ObjectMeta>;

/** What follows an object's body in its file. */
export function trailerOf(meta: ObjectMeta): Buffer {
  const json = Buffer.from(JSON.stringify(meta));
  const tail = Buffer.alloc(TAIL_BYTES);
  tail.writeUInt32BE(json.length, 0);
  MAGIC.copy(tail, 4);
  return Buffer.concat([json, tail]);
}

/** A stored file that is not an object file: never written by this store, so the folder was tampered with. */
export class CorruptObjectError extends Error {
  readonly code = "CORRUPT_OBJECT";
  constructor(message: string) {
    super(message);
    this.name = "CorruptObjectError";
  }
}

/** The body's length and the metadata of the open object file. */
export async function readObjectInfo(handle: FileHandle, path: string): Promise<{ size: number; meta: ObjectMeta }> {
  const { size: fileSize } = await handle.stat();
  if (fileSize < TAIL_BYTES) throw new CorruptObjectError(`${path}: shorter than its trailer`);
  const tail = Buffer.alloc(TAIL_BYTES);
  await handle.read(tail, 0, TAIL_BYTES, fileSize - TAIL_BYTES);
  const length = tail.readUInt32BE(0);
  if (!tail.subarray(4).equals(MAGIC) || length > fileSize - TAIL_BYTES) throw new CorruptObjectError(`${path}: no object trailer`);
  const json = Buffer.alloc(length);
  await handle.read(json, 0, length, fileSize - TAIL_BYTES - length);
  let value: unknown;
  try {
    value = JSON.parse(json.toString("utf8"));
  } catch {
    throw new CorruptObjectError(`${path}: unreadable trailer`);
  }
  const meta = ObjectMeta.safeParse(value);
  if (!meta.success) throw new CorruptObjectError(`${path}: ${meta.error.issues[0]?.message ?? "bad trailer"}`);
  return { size: fileSize - TAIL_BYTES - length, meta: meta.data };
}
