/**
 * @module
 * What a site keeps on its own disk: its personal head and the last global body it saw, which
 * `consilium site export` turns into a model for local inference, and the state it carries from
 * round to round (its SCAFFOLD control, its error-feedback residual). None of it is ever sent.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { decodeUpdate, encodeUpdate, sha256Hex } from "../../core/codec/index.ts";
import { ConsiliumError } from "../../core/errors.ts";
import { silentLogger, type Logger } from "../../core/logger.ts";
import { Layout } from "../../core/model/layout.ts";
import { ModelSpec } from "../../core/model/model-spec.ts";
import { Preprocessing } from "../../core/schemas/preprocessing.ts";
import { writeStateFile } from "./state-files.ts";

export const PersonalModelMeta = z.object({
  modelVersion: z.number().int().nonnegative(),
  spec: ModelSpec,
  layout: Layout,
  preprocessing: Preprocessing,
  savedAt: z.string(),
  /** The sha256 of `global-body.bin` and `personal-head.bin` as saved with this file (absent from older state folders). */
  files: z.object({ body: z.string(), head: z.string() }).optional(),
  /**
   * An installed registry version (`installed-model.ts`): `modelVersion` is the registry's
   * version; `kind` whether the site's personal head is on it or the global model alone (a zero
   * head), and why, from both models' AUROC on the site's held-out rows.
   */
  installed: z
    .object({
      kind: z.enum(["personal", "global"]),
      reason: z.string(),
      /** Both models' AUROC on the site's held-out rows when it was installed (null: one class only). */
      auroc: z.object({ personal: z.number().nullable(), global: z.number().nullable(), rows: z.int().nonnegative() }),
    })
    .optional(),
});
export type PersonalModelMeta = z.infer<typeof PersonalModelMeta>;

export interface PersonalModel {
  readonly meta: PersonalModelMeta;
  readonly body: Float32Array;
  readonly head: Float32Array;
}

/**
 * Saves the personal model: the body and the head first, then `personal.json`, which names their
 * sha256. Each file is written atomically; a runner killed between them leaves a `personal.json`
 * that no longer matches, which `loadPersonalModel` refuses instead of pairing a new head with an
 * old body.
 */
export async function savePersonalModel(dir: string, model: PersonalModel): Promise<void> {
  const body = encodeUpdate(model.body, "float32");
  const head = encodeUpdate(model.head, "float32");
  await writeStateFile(dir, "global-body.bin", body);
  await writeStateFile(dir, "personal-head.bin", head);
  const meta: PersonalModelMeta = { ...model.meta, files: { body: sha256Hex(body), head: sha256Hex(head) } };
  await writeStateFile(dir, "personal.json", JSON.stringify(meta, null, 2));
}

export async function loadPersonalModel(dir: string): Promise<PersonalModel> {
  const meta = PersonalModelMeta.parse(JSON.parse(await readFile(join(dir, "personal.json"), "utf8")));
  const [bodyBytes, headBytes] = [await readFile(join(dir, "global-body.bin")), await readFile(join(dir, "personal-head.bin"))];
  if (meta.files && (sha256Hex(bodyBytes) !== meta.files.body || sha256Hex(headBytes) !== meta.files.head)) {
    throw new ConsiliumError("CORRUPT_STATE", `the personal model in ${dir} is incomplete (its body or head is not the one personal.json names): the site's last evaluation did not finish saving it; run the site again to refit it`, 500);
  }
  const body = decodeUpdate(bodyBytes, { length: meta.layout.bodySize }).values;
  const head = decodeUpdate(headBytes, { length: meta.layout.headSize }).values;
  return { meta, body, head };
}


/** A vector a site keeps across rounds for one federation: one line of JSON naming it and the length, then the values as a float32 update container. */
async function saveFederationVector(dir: string, file: string, federation: string | null, values: Float32Array): Promise<void> {
  const meta = Buffer.from(`${JSON.stringify({ federation, length: values.length })}\n`);
  await writeStateFile(dir, file, Buffer.concat([meta, encodeUpdate(values, "float32")]));
}

/** The vector saved as `file` for `federation` at this length, or `null`; one of another federation or length, or unreadable, is passed over with a warning naming `what` and what happens `instead`. */
async function loadFederationVector(dir: string, file: string, federation: string | null, length: number, logger: Logger, what: string, instead: string): Promise<Float32Array | null> {
  const path = join(dir, file);
  const bytes = await readFile(path).catch(() => null);
  if (!bytes) return null;
  try {
    const newline = bytes.indexOf(0x0a);
    const meta = z.object({ federation: z.string().nullable(), length: z.number().int().nonnegative() }).parse(JSON.parse(bytes.subarray(0, newline).toString("utf8")));
    if (meta.federation !== federation || meta.length !== length) {
      logger.warn(`${what} of another federation or model passed over; ${instead}`, { file: path, kept: meta.federation, federation, length: meta.length, expected: length });
      return null;
    }
    return decodeUpdate(bytes.subarray(newline + 1), { length, codec: "float32" }).values;
  } catch (err) {
    logger.warn(`${what} unreadable; ${instead}`, { file: path, message: (err as Error).message });
    return null;
  }
}

/** The site's SCAFFOLD control variate, kept across rounds and runner restarts (`control.bin`). */
export async function saveControl(dir: string, federation: string | null, control: Float32Array): Promise<void> {
  await saveFederationVector(dir, "control.bin", federation, control);
}

/**
 * The saved control variate of `federation` at this length, or `null` when there is none. One
 * kept for another federation, or unreadable, is passed over with a warning: a control from
 * another federation would steer this one's training wrong.
 */
export async function loadControl(dir: string, federation: string | null, length: number, logger: Logger = silentLogger): Promise<Float32Array | null> {
  return loadFederationVector(dir, "control.bin", federation, length, logger, "SCAFFOLD control", "this site's control starts at zero");
}

/** The site's Ditto model (its own body, trained at every round beside the global one), kept across rounds and restarts (`ditto.bin`). */
export async function saveDitto(dir: string, federation: string | null, body: Float32Array): Promise<void> {
  await saveFederationVector(dir, "ditto.bin", federation, body);
}

/** The saved Ditto model of `federation` at this length, or `null` (it then starts from the round's global model). */
export async function loadDitto(dir: string, federation: string | null, length: number, logger: Logger = silentLogger): Promise<Float32Array | null> {
  return loadFederationVector(dir, "ditto.bin", federation, length, logger, "Ditto model", "it starts again from the round's global model");
}

/** The site's fedrep head (its residual head, trained at every round, never sent), kept across rounds and restarts (`fedrep-head.bin`). */
export async function saveFedrepHead(dir: string, federation: string | null, head: Float32Array): Promise<void> {
  await saveFederationVector(dir, "fedrep-head.bin", federation, head);
}

/** The saved fedrep head of `federation` at this length, or `null` (it then starts from no head). */
export async function loadFedrepHead(dir: string, federation: string | null, length: number, logger: Logger = silentLogger): Promise<Float32Array | null> {
  return loadFederationVector(dir, "fedrep-head.bin", federation, length, logger, "fedrep head", "it starts again from no head");
}

/**
 * Where a site's error-feedback residual comes from: the federation, codec spec and round of the
 * update whose compression dropped it, and its length. It is carried only into a later round of
 * the same federation and codec, at the same length (`residualFits`).
 */
export const ResidualMeta = z.object({
  federation: z.string().nullable(),
  codec: z.string(),
  round: z.number().int().positive(),
  length: z.number().int().nonnegative(),
});
export type ResidualMeta = z.infer<typeof ResidualMeta>;

/** What compression dropped from the site's last accepted update (`encodeWithFeedback`). */
export interface Residual {
  readonly meta: ResidualMeta;
  readonly values: Float32Array;
}

const RESIDUAL = "residual.bin";

/**
 * Saves the residual as `residual.bin`: its metadata as one line of JSON, then the values as a
 * float32 update container. Written beside and renamed over the old file, so that a runner killed
 * mid-write leaves the old residual or the new one, never half of one.
 *
 * @example
 * await saveResidual(stateDir, { meta: { federation, codec: task.codec, round: task.round, length }, values });
 */
export async function saveResidual(dir: string, residual: Residual): Promise<void> {
  const meta = Buffer.from(`${JSON.stringify(residual.meta)}\n`);
  await writeStateFile(dir, RESIDUAL, Buffer.concat([meta, encodeUpdate(residual.values, "float32")]));
}

/**
 * The saved residual, or `null` when there is none or it cannot be read back whole.
 *
 * @example
 * const saved = await loadResidual(stateDir);
 * const residual = saved && residualFits(saved.meta, next) ? saved.values : null;
 */
export async function loadResidual(dir: string, logger: Logger = silentLogger): Promise<Residual | null> {
  const file = join(dir, RESIDUAL);
  try {
    const bytes = await readFile(file);
    const newline = bytes.indexOf(0x0a);
    const meta = ResidualMeta.parse(JSON.parse(bytes.subarray(0, newline).toString("utf8")));
    return { meta, values: decodeUpdate(bytes.subarray(newline + 1), { length: meta.length, codec: "float32" }).values };
  } catch (err) {
    // None saved yet is the usual case; anything else loses what compression dropped, so say so.
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      logger.warn("error-feedback residual unreadable; the next update starts without it", { file, message: (err as Error).message });
    }
    return null;
  }
}

/**
 * Whether a residual saved with `saved` may be added to the update described by `next`: one from
 * another federation, another codec, another update length or a round not before this one (a
 * rerun that reused the federation's id) would be misapplied, so it is discarded instead.
 *
 * @example
 * residualFits({ federation: "f", codec: "topk:0.1+int8", round: 3, length: 62 }, { federation: "f", codec: "topk:0.1+int8", round: 4, length: 62 }); // true
 */
export function residualFits(saved: ResidualMeta, next: ResidualMeta): boolean {
  return saved.federation === next.federation && saved.codec === next.codec && saved.length === next.length && saved.round < next.round;
}
