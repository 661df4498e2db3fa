import { MAX_PARTS, partCount, type UploadTarget } from "../../core/schemas/upload.ts";
import type { CoordinatorDeps } from "../deps.ts";

const MiB = 1024 * 1024;

export type UploadPlan = { readonly kind: "single" } | { readonly kind: "multipart"; readonly partBytes: number; readonly parts: number };

/**
 * How a site sends an update of `byteLength` bytes: in one PUT up to the threshold, in parts above
 * it. Task and submission both ask, so that they agree on the part count without storing it.
 * @example
 * uploadPlan({ ...deps, multipartThresholdBytes: 8 * MiB }, 12 * MiB); // { kind: "multipart", partBytes: 8 * MiB, parts: 2 }
 */
export function uploadPlan(deps: Pick<CoordinatorDeps, "multipartThresholdBytes" | "uploadPartBytes">, byteLength: number): UploadPlan {
  if (byteLength <= (deps.multipartThresholdBytes ?? 8 * MiB)) return { kind: "single" };
  // Parts grow rather than outnumber S3's 10,000.
  const partBytes = Math.max(deps.uploadPartBytes ?? 8 * MiB, Math.ceil(byteLength / MAX_PARTS));
  return { kind: "multipart", partBytes, parts: partCount(byteLength, partBytes) };
}

/**
 * Presigns the upload of one update to `key`, as `uploadPlan` says: the train task's `upload`.
 * @example
 * const upload = await presignUpload(deps, keys.updateBin(round, siteId), byteLength);
 */
export async function presignUpload(deps: CoordinatorDeps, key: string, byteLength: number): Promise<UploadTarget> {
  const plan = uploadPlan(deps, byteLength);
  const ttl = deps.urlTtlSeconds ?? 3600;
  if (plan.kind === "single") return { kind: "single", url: await deps.store.presignPut(key, ttl, byteLength), byteLength };
  const { uploadId, parts } = await deps.store.presignMultipart(key, ttl, byteLength, plan.partBytes);
  return { kind: "multipart", uploadId, partBytes: plan.partBytes, parts: [...parts], byteLength };
}
