/**
 * @module
 * `consilium site export`: a site's personalised model as a TensorFlow.js Layers model
 * (`model.json` + `weights.bin`, loadable by `tf.loadLayersModel`) with the consortium's
 * preprocessing beside it, which inference needs to turn raw rows into inputs. The personal head is
 * folded into the output layer, so any tfjs runtime serves the file as a plain dense network.
 * `model.json` names the site, model version and federation it came from.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { ConsiliumError } from "../../core/errors.ts";
import type { Layout, Segment } from "../../core/model/layout.ts";
import { loadSettledPersonalModel } from "../session/installed-model.ts";
import type { PersonalModel } from "../session/site-state.ts";
import { readStateOwner } from "../session/state-owner.ts";

/** File names inside the export folder. */
export const exportFiles = { model: "model.json", weights: "weights.bin", preprocessing: "preprocessing.json" } as const;

/** One dense layer of the exported network, in the layout's row-major order. */
export interface DenseWeights {
  readonly name: string;
  readonly kernel: Float32Array;
  readonly kernelShape: readonly [number, number];
  readonly bias: Float32Array;
  readonly activation: "relu" | "sigmoid" | "softmax";
}

const corrupt = (message: string) => new ConsiliumError("CORRUPT_STATE", `personal model: ${message}`, 500);

function slice(flat: Float32Array, s: Segment): Float32Array {
  if (s.offset + s.size > flat.length) throw corrupt(`segment ${s.name} ends at ${s.offset + s.size}, past ${flat.length} values`);
  return flat.slice(s.offset, s.offset + s.size);
}

/**
 * The network `forward` in model.ts computes, as dense layers: ReLU hidden layers from the body,
 * then one output layer, sigmoid (one logit) or softmax (K classes), whose kernel and bias are
 * the body's plus the personal head.
 */
export function personalLayers(layout: Layout, body: Float32Array, head: Float32Array): DenseWeights[] {
  const segs = layout.body;
  if (layout.image) throw new ConsiliumError("UNSUPPORTED_MODEL", "site export writes dense models; a convolutional (cnn) model is not exported yet", 422);
  if (segs.length < 2 || segs.length % 2 !== 0) throw corrupt(`body has ${segs.length} segments, expected kernel/bias pairs`);
  if (body.length !== layout.bodySize || head.length !== layout.headSize) {
    throw corrupt(`body has ${body.length} values and head ${head.length}, layout says ${layout.bodySize} and ${layout.headSize}`);
  }
  const layers: DenseWeights[] = [];
  let width = layout.inputDim;
  for (let i = 0; i < segs.length; i += 2) {
    const k = segs[i] as Segment;
    const b = segs[i + 1] as Segment;
    const [rows = 0, cols = 0] = k.shape;
    if (k.shape.length !== 2 || rows !== width || b.size !== cols) throw corrupt(`${k.name} ${k.shape.join("×")} does not follow a ${width}-wide input`);
    const last = i + 2 === segs.length;
    layers.push({ name: k.name.split("/")[0] ?? `dense${i / 2}`, kernel: slice(body, k), kernelShape: [rows, cols], bias: slice(body, b), activation: last ? (cols === 1 ? "sigmoid" : "softmax") : "relu" });
    width = cols;
  }
  const out = layers[layers.length - 1] as DenseWeights;
  const [hk, hb] = layout.head;
  if (layout.head.length !== 2 || !hk || !hb || hk.size !== out.kernel.length || hb.size !== out.bias.length) {
    throw corrupt(`head segments do not match the ${out.kernelShape.join("×")} output layer`);
  }
  // Summed into float32, as tf.add does in `forward`, so exported scores match the runner's.
  const add = (a: Float32Array, r: Float32Array) => a.map((v, j) => v + (r[j] ?? 0));
  layers[layers.length - 1] = { ...out, kernel: add(out.kernel, slice(head, hk)), bias: add(out.bias, slice(head, hb)) };
  return layers;
}

function buildModel(inputDim: number, layers: readonly DenseWeights[]): tfl.Sequential {
  const model = tfl.sequential({ name: "consilium_personal" });
  layers.forEach((l, i) => {
    const units = l.kernelShape[1];
    model.add(tfl.layers.dense({ units, activation: l.activation, name: l.name, ...(i === 0 && { inputShape: [inputDim] }) }));
  });
  tf.tidy(() => {
    model.layers.forEach((layer, i) => {
      const l = layers[i] as DenseWeights;
      layer.setWeights([tf.tensor2d(l.kernel, [...l.kernelShape]), tf.tensor1d(l.bias)]);
    });
  });
  return model;
}

/** Who the exported model is for, beyond what the state folder says. */
export interface ExportLabel {
  /** The site the state folder belongs to; by default what its `site.json` names. */
  readonly siteId?: string | null;
  readonly exportedAt?: Date;
  /** An installed registry version (`installed-model.ts`); by default the model in use. */
  readonly version?: number;
}

/** What was written, and what `model.json`'s `userDefinedMetadata.consilium` says of it. */
export interface ExportedModel {
  readonly files: string[];
  readonly siteId: string | null;
  readonly modelVersion: number;
  /** Known when the runner that saved the model had seen the federation's id. */
  readonly federation: string | null;
  readonly exportedAt: string;
  /** For an installed registry version: personal head or the global model alone, and why. */
  readonly installed?: NonNullable<PersonalModel["meta"]["installed"]>;
}


/**
 * Writes the personal model saved under `stateDir` to `outDir` as `model.json` (naming the site,
 * the model version, the federation when known, and when it was exported), `weights.bin` and
 * `preprocessing.json`. Needs a tfjs backend (`selectBackend`).
 * @example
 * await selectBackend();
 * const { files, modelVersion } = await exportPersonalModel("state/site-01", "export/site-01", { siteId: "site-01" });
 * const model = await tf.loadLayersModel(`file://${files[0]}`); // with tfjs-node's file handler
 */
export async function exportPersonalModel(stateDir: string, outDir: string, label: ExportLabel = {}): Promise<ExportedModel> {
  const personal = await loadSettledPersonalModel(stateDir, label.version);
  const owner = await readStateOwner(stateDir);
  const { layout, preprocessing, spec, modelVersion } = personal.meta;
  const siteId = label.siteId ?? owner?.siteId ?? null;
  const installed = personal.meta.installed;
  // An installed version is the registry's; site.json's federation speaks of the last run's personal model.
  const federation = installed === undefined && owner?.personal?.modelVersion === modelVersion ? owner.personal.federation : null;
  const exportedAt = (label.exportedAt ?? new Date()).toISOString();
  if (preprocessing.inputs.length !== layout.inputDim) {
    throw corrupt(`preprocessing makes ${preprocessing.inputs.length} inputs, the layout takes ${layout.inputDim}`);
  }
  const model = buildModel(layout.inputDim, personalLayers(layout, personal.body, personal.head));
  let artifacts: tf.io.ModelArtifacts | undefined;
  try {
    await model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }));
  } finally {
    model.dispose();
  }
  if (!artifacts?.modelTopology || !artifacts.weightSpecs || !artifacts.weightData) throw new Error("tfjs-layers saved no topology or weights");
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: [exportFiles.weights], weights: artifacts.weightSpecs }],
    userDefinedMetadata: {
      consilium: { ...(siteId !== null && { siteId }), modelVersion, ...(federation !== null && { federation }), ...(installed && { installed }), exportedAt, model: spec, inputs: preprocessing.inputs },
    },
  };
  const files = [exportFiles.model, exportFiles.weights, exportFiles.preprocessing].map((f) => join(outDir, f));
  const [modelPath = "", weightsPath = "", prepPath = ""] = files;
  await mkdir(outDir, { recursive: true });
  await writeFile(weightsPath, new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData)));
  await writeFile(prepPath, JSON.stringify(preprocessing, null, 2));
  await writeFile(modelPath, JSON.stringify(modelJson));
  return { files, siteId, modelVersion, federation, exportedAt, ...(installed && { installed }) };
}
