import { ConsiliumError } from "../../core/errors.ts";
import { decodeUpdate, encodeUpdate, sha256Hex } from "../../core/codec/index.ts";
import { ModelManifest } from "../../core/schemas/round.ts";
import type { ModelRef } from "../../core/schemas/task.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { mustReadJson, writeJson } from "../repo.ts";

/** A version's down-link delta from an earlier version, and what the down-link still owes after it. */
export interface DownlinkDelta {
  readonly from: number;
  readonly codec: string;
  readonly bytes: Uint8Array;
  readonly residual: Float32Array;
}

/** Stores a model version (float32 container), with its down-link delta if any; rewriting the same version is a no-op. */
export async function saveModel(
  deps: CoordinatorDeps,
  body: Float32Array,
  meta: Omit<ModelManifest, "length" | "byteLength" | "sha256" | "createdAt" | "control" | "delta">,
  control?: Float32Array,
  delta?: DownlinkDelta,
): Promise<ModelManifest> {
  const bytes = encodeUpdate(body, "float32");
  const controlBytes = control ? encodeUpdate(control, "float32") : null;
  const manifest: ModelManifest = {
    ...meta,
    length: body.length,
    byteLength: bytes.length,
    sha256: sha256Hex(bytes),
    ...(controlBytes && { control: { byteLength: controlBytes.length, sha256: sha256Hex(controlBytes) } }),
    ...(delta && { delta: { from: delta.from, codec: delta.codec, byteLength: delta.bytes.length, sha256: sha256Hex(delta.bytes) } }),
    createdAt: deps.clock.now(),
  };
  const binary = { ifAbsent: true, contentType: "application/octet-stream" };
  await deps.store.put(keys.modelWeights(meta.version), bytes, binary);
  if (controlBytes) await deps.store.put(keys.modelControl(meta.version), controlBytes, binary);
  if (delta) {
    await deps.store.put(keys.modelDelta(meta.version), delta.bytes, binary);
    await deps.store.put(keys.downlinkResidual(meta.version), encodeUpdate(delta.residual, "float32"), binary);
  }
  await writeJson(deps.store, keys.modelManifest(meta.version), manifest, { ifAbsent: true });
  return mustReadJson(deps.store, keys.modelManifest(meta.version), ModelManifest, "NO_MODEL", `model ${meta.version}`);
}

export async function loadModel(deps: CoordinatorDeps, version: number): Promise<Float32Array> {
  const manifest = await mustReadJson(deps.store, keys.modelManifest(version), ModelManifest, "NO_MODEL", `model ${version}`);
  const bytes = await deps.store.get(keys.modelWeights(version));
  if (!bytes) throw new ConsiliumError("NO_MODEL", `model ${version} weights not found`, 404);
  if (sha256Hex(bytes) !== manifest.sha256) throw new ConsiliumError("CORRUPT_STATE", `model ${version} weights do not match their manifest`, 500);
  return decodeUpdate(bytes, { length: manifest.length }).values;
}

/**
 * What the down-link still owes of the strategy's models as of `version`: `null` when that version
 * was published whole; `CORRUPT_STATE` when its residual is missing or does not decode.
 */
export async function loadDownlinkResidual(deps: CoordinatorDeps, version: number, length: number): Promise<Float32Array | null> {
  const manifest = await mustReadJson(deps.store, keys.modelManifest(version), ModelManifest, "NO_MODEL", `model ${version}`);
  if (!manifest.delta) return null;
  const bytes = await deps.store.get(keys.downlinkResidual(version));
  if (bytes === null) throw new ConsiliumError("CORRUPT_STATE", `model ${version} has a down-link delta but no residual`, 500);
  try {
    return decodeUpdate(bytes, { length, codec: "float32" }).values;
  } catch (err) {
    throw new ConsiliumError("CORRUPT_STATE", `down-link residual of model ${version}: ${(err as Error).message}`, 500);
  }
}

export async function modelRef(deps: CoordinatorDeps, version: number): Promise<ModelRef> {
  const manifest = await mustReadJson(deps.store, keys.modelManifest(version), ModelManifest, "NO_MODEL", `model ${version}`);
  const ttl = deps.urlTtlSeconds ?? 3600;
  const url = await deps.store.presignGet(keys.modelWeights(version), ttl);
  const delta = manifest.delta && { ...manifest.delta, url: await deps.store.presignGet(keys.modelDelta(version), ttl) };
  return { version, url, sha256: manifest.sha256, byteLength: manifest.byteLength, ...(delta && { delta }) };
}

/** The server control variate stored with a model version, when its strategy keeps one. */
export async function controlRef(deps: CoordinatorDeps, version: number): Promise<ModelRef | undefined> {
  const manifest = await mustReadJson(deps.store, keys.modelManifest(version), ModelManifest, "NO_MODEL", `model ${version}`);
  if (!manifest.control) return undefined;
  const url = await deps.store.presignGet(keys.modelControl(version), deps.urlTtlSeconds ?? 3600);
  return { version, url, ...manifest.control };
}
