/**
 * @module
 * Object keys as file names: `k` and the key's UTF-8 bytes in base64url, so that any key maps to
 * one flat name with no separator, dot-segment or case clash, and listing needs no file read.
 */
import { badRequest } from "./store-error.ts";

/** Room for the name within the 255 bytes most file systems allow. */
const MAX_NAME = 250;

/** The file name of `key`; an empty or too long key is refused as S3 refuses it. */
export function fileNameOf(key: string): string {
  if (key.length === 0) throw badRequest("InvalidArgument", "the object key is empty");
  // Listings are XML, which cannot carry control characters.
  if (/[\u0000-\u001f\u007f]/.test(key)) throw badRequest("InvalidArgument", "the object key holds a control character");
  const name = `k${Buffer.from(key, "utf8").toString("base64url")}`;
  if (name.length > MAX_NAME) throw badRequest("KeyTooLongError", `object keys are limited to ${Math.floor(((MAX_NAME - 1) * 3) / 4)} bytes here`);
  return name;
}

/** The key a file name stands for, or null for a name this store did not write. */
export function keyOfFileName(name: string): string | null {
  if (name.length > MAX_NAME || !/^k[A-Za-z0-9_-]+$/.test(name)) return null;
  const key = Buffer.from(name.slice(1), "base64url").toString("utf8");
  return fileNameOf(key) === name ? key : null;
}
