/**
 * @module
 * What a site keeps on its own disk: its personal head and the last global body it saw. Neither is
 * ever sent anywhere; `consilium site export` turns them into a model for local inference.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { decodeUpdate, encodeUpdate } from "../core/codec/index.ts";
import { Layout } from "../core/model/layout.ts";
import { ModelSpec } from "../core/model/model-spec.ts";
import { Preprocessing } from "../core/schemas/preprocessing.ts";

export const PersonalModelMeta = z.object({
  modelVersion: z.number().int().nonnegative(),
  spec: ModelSpec,
  layout: Layout,
  preprocessing: Preprocessing,
  savedAt: z.string(),
});
export type PersonalModelMeta = z.infer<typeof PersonalModelMeta>;

export interface PersonalModel {
  readonly meta: PersonalModelMeta;
  readonly body: Float32Array;
  readonly head: Float32Array;
}

export async function savePersonalModel(dir: string, model: PersonalModel): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "personal.json"), JSON.stringify(model.meta, null, 2));
  await writeFile(join(dir, "global-body.bin"), encodeUpdate(model.body, "float32"));
  await writeFile(join(dir, "personal-head.bin"), encodeUpdate(model.head, "float32"));
}

export async function loadPersonalModel(dir: string): Promise<PersonalModel> {
  const meta = PersonalModelMeta.parse(JSON.parse(await readFile(join(dir, "personal.json"), "utf8")));
  const body = decodeUpdate(await readFile(join(dir, "global-body.bin")), { length: meta.layout.bodySize }).values;
  const head = decodeUpdate(await readFile(join(dir, "personal-head.bin")), { length: meta.layout.headSize }).values;
  return { meta, body, head };
}

/** The site's SCAFFOLD control variate, kept across rounds and runner restarts. */
export async function saveControl(dir: string, control: Float32Array): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "control.bin"), encodeUpdate(control, "float32"));
}

/** The saved control variate, or `null` when there is none of this length. */
export async function loadControl(dir: string, length: number): Promise<Float32Array | null> {
  const bytes = await readFile(join(dir, "control.bin")).catch(() => null);
  if (!bytes) return null;
  try {
    return decodeUpdate(bytes, { length }).values;
  } catch {
    return null;
  }
}
