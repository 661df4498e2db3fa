/**
 * @module
 * A TensorFlow.js Layers `model.json` (a hospital's own architecture) read as a model Consilium
 * trains: its layers checked one by one against what the runner computes, and translated into a
 * `ModelSpec` that keeps the file's input width and output width, so that the coordinator refuses
 * features or a label that do not fit it (`modelLayout`). The runner's networks are chains of
 * 3×3 same-padded ReLU convolutions each followed by 2×2 max pooling, then ReLU dense layers, then
 * an output layer (sigmoid over one unit, softmax over K, or linear logits) on which the personal
 * head sits: any other layer or setting is refused, naming the layer and what to change.
 */
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { ModelSpec } from "./model-spec.ts";

const Shape = z.array(z.int().positive().nullable());

/** One layer as a Layers model.json writes it: its class and config (the fields read here; the rest ignored). */
const LayerJson = z.object({
  class_name: z.string().min(1).max(100),
  config: z
    .object({
      name: z.string().max(200).optional(),
      batch_input_shape: Shape.optional(),
      batchInputShape: Shape.optional(),
      target_shape: z.array(z.int()).optional(),
      units: z.int().positive().optional(),
      filters: z.int().positive().optional(),
      kernel_size: z.union([z.int(), z.array(z.int())]).optional(),
      strides: z.union([z.int(), z.array(z.int())]).nullable().optional(),
      pool_size: z.union([z.int(), z.array(z.int())]).optional(),
      padding: z.string().optional(),
      activation: z.string().optional(),
      use_bias: z.boolean().optional(),
      dilation_rate: z.union([z.int(), z.array(z.int())]).optional(),
      data_format: z.string().optional(),
    })
    .loose(),
  inbound_nodes: z.unknown().optional(),
});
type LayerJson = z.infer<typeof LayerJson>;

/** The file: a Sequential model (or a Functional one whose layers form one chain), its weights optional. */
const ModelJson = z.object({
  modelTopology: z.object({
    class_name: z.string(),
    config: z.union([z.object({ layers: z.array(LayerJson).min(1).max(200), output_layers: z.unknown().optional() }).loose(), z.array(LayerJson).min(1).max(200)]),
  }).loose(),
  weightsManifest: z.array(z.unknown()).optional(),
}).loose();

/** What a model.json becomes: the spec, its input and output widths, the layer the personal head sits on, and what reading it decided. */
export interface LayersModel {
  readonly spec: ModelSpec;
  readonly inputs: number;
  readonly outputs: number;
  /** The output layer's name: the personal head is a residual on it. */
  readonly head: string;
  readonly notes: readonly string[];
}

const pair = (v: number | number[] | null | undefined): [number, number] | null => (v === null || v === undefined ? null : Array.isArray(v) ? [v[0] ?? 0, v[1] ?? v[0] ?? 0] : [v, v]);
const same = (v: number | number[] | null | undefined, want: number) => {
  const p = pair(v);
  return p !== null && p[0] === want && p[1] === want;
};

/**
 * Reads `text` (a Layers model.json) as a model the runner trains. `head` names the layer the
 * personal head sits on, when the file's owner declares it: it must be the output layer.
 * @throws ConfigError naming the layer and the setting the runner does not compute.
 * @example
 * const { spec, inputs, outputs } = modelFromLayersJson(await readFile("model.json", "utf8"));
 */
export function modelFromLayersJson(text: string, head?: string): LayersModel {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`model.json is not JSON: ${(err as Error).message}`);
  }
  const parsed = ModelJson.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`model.json is not a TensorFlow.js Layers model: ${(issue?.path ?? []).join(".")}: ${issue?.message ?? "invalid"}`);
  }
  const topology = parsed.data.modelTopology;
  const layers = Array.isArray(topology.config) ? topology.config : topology.config.layers;
  const notes: string[] = [];
  if (!["Sequential", "Model", "Functional"].includes(topology.class_name)) throw new ConfigError(`model.json: a ${topology.class_name} model; the runner reads Sequential models and Functional ones whose layers form a chain`);
  if (topology.class_name !== "Sequential") checkChain(layers, Array.isArray(topology.config) ? undefined : topology.config.output_layers);
  const named = (l: LayerJson, i: number) => `layer ${i + 1} (${l.class_name}${l.config.name ? ` "${l.config.name}"` : ""})`;

  // The input: [D] flat, or [H, W, C] an image (rows are its pixels, row-major, channels last).
  const first = layers[0]!;
  const declared = first.config.batch_input_shape ?? first.config.batchInputShape;
  if (!declared) throw new ConfigError(`model.json: ${named(first, 0)} declares no input shape (batch_input_shape)`);
  const shape = declared.slice(1);
  if (shape.some((d) => d === null) || (shape.length !== 1 && shape.length !== 3)) throw new ConfigError(`model.json: the input shape [${declared.map(String).join(", ")}] is neither [null, width] nor [null, height, width, channels]`);
  let image: [number, number, number] | null = shape.length === 3 ? (shape as [number, number, number]) : null;
  const inputs = (shape as number[]).reduce((a, b) => a * b, 1);

  const conv: number[] = [];
  const dense: { units: number; activation: string; name: string }[] = [];
  let flat = image === null;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i]!;
    const c = l.config;
    const at = named(l, i);
    const refuse = (why: string) => new ConfigError(`model.json: ${at}: ${why}`);
    if (c.use_bias === false) throw refuse("the runner's layers have biases (use_bias true)");
    switch (l.class_name) {
      case "InputLayer":
        if (i !== 0) throw refuse("an input layer inside the chain");
        break;
      case "Reshape": {
        const t = c.target_shape ?? [];
        const first = i === 0 || (i === 1 && layers[0]!.class_name === "InputLayer");
        if (!first || image !== null || t.length !== 3 || t.some((d) => d < 1) || t.reduce((a, b) => a * b, 1) !== inputs) throw refuse(`only a first layer that reshapes the ${inputs} inputs into an image [height, width, channels] (each given, no -1) is read`);
        image = [t[0]!, t[1]!, t[2]!];
        flat = false;
        break;
      }
      case "Conv2D": {
        if (flat || image === null) throw refuse("a convolution after the image was flattened");
        if (dense.length > 0) throw refuse("a convolution after a dense layer");
        if (!same(c.kernel_size, 3) || !(c.strides == null || same(c.strides, 1)) || (c.padding ?? "valid") !== "same" || c.activation !== "relu" || !(c.dilation_rate === undefined || same(c.dilation_rate, 1)) || (c.data_format ?? "channels_last") !== "channels_last") {
          throw refuse(`the runner's convolutions are 3×3, stride 1, padding "same", ReLU, channels last (here kernel ${JSON.stringify(c.kernel_size)}, strides ${JSON.stringify(c.strides ?? 1)}, padding "${c.padding ?? "valid"}", activation "${c.activation ?? "linear"}")`);
        }
        const next = layers[i + 1];
        if (next?.class_name !== "MaxPooling2D") throw refuse("each convolution is followed by 2×2 max pooling in the runner's networks");
        conv.push(c.filters ?? 0);
        break;
      }
      case "MaxPooling2D":
        if (layers[i - 1]?.class_name !== "Conv2D") throw refuse("max pooling that does not follow a convolution");
        if ((c.data_format ?? "channels_last") !== "channels_last") throw refuse("the runner's images are channels last");
        if (!same(c.pool_size, 2) || !(c.strides == null || same(c.strides, 2)) || (c.padding ?? "valid") !== "valid") throw refuse("the runner pools 2×2 with stride 2 and padding \"valid\"");
        break;
      case "Flatten":
        if (flat) throw refuse("nothing to flatten");
        if ((c.data_format ?? "channels_last") !== "channels_last") throw refuse("the runner flattens images channels last");
        flat = true;
        break;
      case "Dropout":
        notes.push(`model.json: ${at} left out: the runner trains without dropout`);
        break;
      case "Dense": {
        if (!flat) throw refuse("a dense layer on an image: add a Flatten layer before it");
        const last = !layers.slice(i + 1).some((x) => x.class_name === "Dense");
        const activation = c.activation ?? "linear";
        if (!last && activation !== "relu") throw refuse(`hidden dense layers use ReLU in the runner's networks, not "${activation}"`);
        if (last && !["sigmoid", "softmax", "linear"].includes(activation)) throw refuse(`the output layer gives logits to a sigmoid (one unit) or a softmax (K units), not "${activation}"`);
        if (last && activation === "sigmoid" && c.units !== 1) throw refuse(`a sigmoid output has one unit, not ${c.units}`);
        if (last && activation === "softmax" && (c.units ?? 0) < 3) throw refuse(`a softmax output of ${c.units} units: a binary outcome has one sigmoid unit`);
        dense.push({ units: c.units ?? 0, activation, name: c.name ?? `dense_${i + 1}` });
        break;
      }
      default:
        throw refuse("a layer the runner does not compute (it reads InputLayer, Reshape to an image, Conv2D, MaxPooling2D, Flatten, Dense and Dropout)");
    }
  }
  const out = dense.at(-1);
  if (!out) throw new ConfigError("model.json: no dense output layer");
  if (image && conv.length === 0) throw new ConfigError("model.json: an image model without a convolution: the runner's image models start with Conv2D and MaxPooling2D (or give the pixels as a flat input to dense layers)");
  if (head !== undefined && head !== out.name) throw new ConfigError(`model.json: the personal head sits on the output layer "${out.name}", not on "${head}" (a layer the runner shares with the consortium)`);
  if (parsed.data.weightsManifest) notes.push("model.json: its weights are not loaded; the federation starts from its own initialisation (Glorot-uniform kernels, zero biases and output layer)");
  const hidden = dense.slice(0, -1).map((d) => d.units);
  const outputs = out.units;
  const spec: ModelSpec = image
    ? { kind: "cnn", image, conv, dense: hidden, outputs }
    : hidden.length > 0 ? { kind: "mlp", hidden, inputs, outputs } : { kind: "logreg", inputs, outputs };
  const result = ModelSpec.safeParse(spec);
  if (!result.success) throw new ConfigError(`model.json: ${result.error.issues[0]?.path.join(".")}: ${result.error.issues[0]?.message}`);
  return { spec: result.data, inputs, outputs, head: out.name, notes };
}

/** A Functional model's layers must each take the one before as their only input, and its output be the last of them. */
function checkChain(layers: readonly LayerJson[], outputs: unknown): void {
  const last = layers.at(-1)?.config.name;
  const named = [...JSON.stringify(outputs ?? []).matchAll(/\["([^"]+)"/g)].map((m) => m[1]);
  if (outputs !== undefined && (named.length !== 1 || named[0] !== last)) throw new ConfigError(`model.json: the model's output is ${named.map((n) => `"${n}"`).join(", ") || "not named"}, not its last layer "${last ?? "?"}": the runner trains chains that end in their output`);
  layers.forEach((l, i) => {
    if (i === 0) return;
    const before = layers[i - 1]!.config.name;
    const inbound = JSON.stringify(l.inbound_nodes ?? []);
    const names = [...inbound.matchAll(/\["([^"]+)"/g)].map((m) => m[1]);
    if (names.length !== 1 || names[0] !== before) throw new ConfigError(`model.json: layer ${i + 1} ("${l.config.name ?? "?"}") does not take layer ${i} ("${before ?? "?"}") as its only input: the runner trains chains of layers`);
  });
}
