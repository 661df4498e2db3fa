import { createHash } from "node:crypto";

/**
 * Lower-case hex SHA-256 of `bytes`, as carried in update manifests.
 *
 * @example
 * sha256Hex(new TextEncoder().encode("abc")); // "ba7816bf…"
 */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
