import { MAX_PARTS, partCount } from "../../core/schemas/upload.ts";

/** S3 takes at most 5 GiB in one part. */
const MAX_PART_BYTES = 5 * 1024 ** 3;

/**
 * The byte count of each part of a multipart upload, after checking the request against S3's
 * limits, so that a store refuses a plan S3 would refuse only at completion.
 * @example
 * partSizes(12, 5, 5); // [5, 5, 2]
 */
export function partSizes(contentLength: number, partBytes: number, minPartBytes: number): number[] {
  if (!Number.isSafeInteger(contentLength) || contentLength <= 0) throw new RangeError(`contentLength must be a positive integer, got ${contentLength}`);
  if (!Number.isSafeInteger(partBytes) || partBytes < minPartBytes || partBytes > MAX_PART_BYTES) {
    throw new RangeError(`partBytes must be an integer from ${minPartBytes} to ${MAX_PART_BYTES}, got ${partBytes}`);
  }
  const count = partCount(contentLength, partBytes);
  if (count > MAX_PARTS) throw new RangeError(`${contentLength} bytes in ${partBytes}-byte parts take ${count} parts, more than S3's ${MAX_PARTS}`);
  return Array.from({ length: count }, (_, i) => Math.min(partBytes, contentLength - i * partBytes));
}
