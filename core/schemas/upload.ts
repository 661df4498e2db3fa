/**
 * @module
 * How a site sends its update to the store: one presigned PUT, or an S3 multipart upload with one
 * presigned URL per part, completed by the coordinator from the part ETags the site reports.
 */
import { z } from "zod";

/** S3 numbers a multipart upload's parts 1 to 10,000. */
export const MAX_PARTS = 10_000;

/**
 * Parts an upload of `byteLength` bytes has in `partBytes`-byte parts (the last may be shorter).
 * @example
 * partCount(12 * 1024 * 1024, 5 * 1024 * 1024); // 3
 */
export function partCount(byteLength: number, partBytes: number): number {
  return Math.ceil(byteLength / partBytes);
}

/** The whole update in one presigned PUT of exactly `byteLength` bytes. */
export const SingleUpload = z.object({ kind: z.literal("single"), url: z.string().min(1), byteLength: z.number().int().positive() });
export type SingleUpload = z.infer<typeof SingleUpload>;

/** The update cut into `partBytes`-byte parts, part n being bytes `[(n-1)·partBytes, n·partBytes)`. */
export const MultipartUpload = z
  .object({
    kind: z.literal("multipart"),
    uploadId: z.string().min(1),
    partBytes: z.number().int().positive(),
    parts: z.array(z.object({ partNumber: z.number().int().min(1).max(MAX_PARTS), url: z.string().min(1) })).min(1).max(MAX_PARTS),
    byteLength: z.number().int().positive(),
  })
  .superRefine((upload, ctx) => {
    const count = partCount(upload.byteLength, upload.partBytes);
    if (upload.parts.length !== count) {
      ctx.addIssue({ code: "custom", path: ["parts"], message: `${upload.byteLength} bytes in ${upload.partBytes}-byte parts take ${count} part URLs, got ${upload.parts.length}` });
      return;
    }
    upload.parts.forEach((part, i) => {
      if (part.partNumber !== i + 1) ctx.addIssue({ code: "custom", path: ["parts", i, "partNumber"], message: `expected part ${i + 1}, got ${part.partNumber}` });
    });
  });
export type MultipartUpload = z.infer<typeof MultipartUpload>;

/** The train task's `upload`. */
export const UploadTarget = z.preprocess(
  // Coordinators from before multipart uploads sent `{ url, byteLength }` without a kind.
  (value) => (typeof value === "object" && value !== null && !("kind" in value) ? { kind: "single", ...value } : value),
  z.discriminatedUnion("kind", [SingleUpload, MultipartUpload]),
);
export type UploadTarget = z.infer<typeof UploadTarget>;

/** One part as the site reports it: the ETag the store answered to its PUT, quotes and all. */
export const UploadedPart = z.object({ partNumber: z.number().int(), etag: z.string() });
export type UploadedPart = z.infer<typeof UploadedPart>;

/**
 * The part list that completes an upload of `count` parts: parts 1 to `count`, in order, each
 * with a non-empty ETag. Checked apart from the manifest, which cannot know `count`.
 * @example
 * partList(2).safeParse([{ partNumber: 1, etag: '"a1"' }, { partNumber: 2, etag: '"b2"' }]).success; // true
 */
export function partList(count: number) {
  return z.array(UploadedPart).superRefine((parts, ctx) => {
    if (parts.length !== count) {
      ctx.addIssue({ code: "custom", message: `the upload has ${count} parts, the list names ${parts.length}` });
      return;
    }
    parts.forEach((part, i) => {
      if (part.partNumber !== i + 1) ctx.addIssue({ code: "custom", path: [i, "partNumber"], message: `expected part ${i + 1}, got ${part.partNumber}` });
      if (part.etag.trim() === "") ctx.addIssue({ code: "custom", path: [i, "etag"], message: `part ${i + 1} has an empty ETag` });
    });
  });
}
