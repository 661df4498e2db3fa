import { CodecSpec, decodeUpdate, encodeUpdate, sha256Hex } from "../../core/codec/index.ts";
import { ConsiliumError } from "../../core/errors.ts";
import { applyDownlink } from "../../core/model/downlink.ts";
import type { ModelRef } from "../../core/schemas/task.ts";
import type { SiteSession } from "./site-session.ts";

/**
 * The model a task names, as float32 values of `length`: when the site holds the model the
 * task's down-link delta starts from, the delta added to it (`applyDownlink`), checked against
 * the model's sha256; otherwise, or when the delta fails to download or to check, the whole
 * model. The result becomes the model the site holds.
 */
export async function fetchModel(s: SiteSession, ref: ModelRef, length: number): Promise<Float32Array> {
  const fromDelta = await viaDelta(s, ref, length);
  const values = fromDelta ?? decodeUpdate(await s.client.download(ref), { length, codec: "float32" }).values;
  s.held = { version: ref.version, values };
  return values;
}

async function viaDelta(s: SiteSession, ref: ModelRef, length: number): Promise<Float32Array | null> {
  const { delta } = ref;
  const held = s.held;
  if (!delta || held?.version !== delta.from || held.values.length !== length) return null;
  try {
    const bytes = await s.client.download({ version: ref.version, url: delta.url, sha256: delta.sha256, byteLength: delta.byteLength });
    const values = applyDownlink(held.values, bytes, { codec: CodecSpec.parse(delta.codec).name });
    if (sha256Hex(encodeUpdate(values, "float32")) === ref.sha256) return values;
    s.logger.warn("down-link delta did not rebuild the model; downloading it whole", { siteId: s.siteId, version: ref.version, from: delta.from });
  } catch (err) {
    if (!(err instanceof ConsiliumError)) throw err;
    s.logger.warn("down-link delta refused; downloading the model whole", { siteId: s.siteId, version: ref.version, code: err.code, message: err.message });
  }
  return null;
}
