import { ConsiliumError } from "../../core/errors.ts";
import type { UpdateManifest } from "../../core/schemas/round.ts";
import { partList } from "../../core/schemas/upload.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { MultipartUploadError } from "../ports.ts";
import { uploadPlan } from "./upload-plan.ts";

const invalid = (message: string) => new ConsiliumError("INVALID_PARTS", message, 422);

/**
 * Puts a site's multipart upload together under `key` from the part list in its manifest, before
 * the bytes are verified; an update sent in one PUT must come without a list. A list that does
 * not complete the upload is a 422 `INVALID_PARTS`, and the upload stays open for a corrected one.
 * @example
 * await completeUpload(deps, keys.updateBin(round, siteId), byteLength, manifest);
 * await verifyUpdate(deps.store, keys.updateBin(round, siteId), expected, missing);
 */
export async function completeUpload(deps: CoordinatorDeps, key: string, byteLength: number, manifest: Pick<UpdateManifest, "uploadId" | "parts">): Promise<void> {
  const plan = uploadPlan(deps, byteLength);
  const { uploadId, parts } = manifest;
  if (plan.kind === "single") {
    if (uploadId !== undefined || parts !== undefined) throw invalid(`an update of ${byteLength} bytes goes up in one PUT; the manifest must not name an upload or parts`);
    return;
  }
  if (uploadId === undefined || parts === undefined) throw invalid(`an update of ${byteLength} bytes goes up in ${plan.parts} parts; the manifest must give the task's uploadId and every part's ETag`);
  const checked = partList(plan.parts).safeParse(parts);
  if (!checked.success) throw invalid(`part list: ${checked.error.issues.slice(0, 3).map((i) => `${i.path.length ? `parts.${i.path.join(".")}: ` : ""}${i.message}`).join("; ")}`);
  try {
    await deps.store.completeMultipart(key, uploadId, checked.data);
  } catch (err) {
    if (!(err instanceof MultipartUploadError)) throw err;
    // A retried submission: the first one completed the upload, so its id is gone but its object stands (verified next).
    if (err.reason === "NoSuchUpload" && (await deps.store.head(key)) === byteLength) return;
    throw invalid(`the store refused the part list (${err.reason}): ${err.message}`);
  }
}
