import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tfl from "@tensorflow/tfjs-layers";
import "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryIo, UsageError } from "../cli/commands/flags.ts";
import { simulateCommand } from "../cli/commands/simulate-command.ts";
import { ConfigError } from "../core/errors.ts";
import { modelLayout } from "../core/model/layout.ts";
import { modelFromLayersJson } from "../core/model/layers-model.ts";
import type { Report } from "../core/schemas/report.ts";

/** A Layers model.json as TensorFlow.js writes it (architecture only, or with a weights manifest). */
function modelJson(layers: tfl.layers.Layer[], weights = false): string {
  const model = tfl.sequential({ layers });
  const topology = model.toJSON(null, false);
  return JSON.stringify({ format: "layers-model", generatedBy: "TensorFlow.js tfjs-layers", modelTopology: topology, ...(weights && { weightsManifest: [{ paths: ["weights.bin"], weights: [] }] }) });
}

const dense = (units: number, activation: "relu" | "sigmoid" | "softmax" | "tanh", extra: object = {}) => tfl.layers.dense({ units, activation, ...extra });

describe("a hospital's own TensorFlow.js model (model.json)", () => {
  it("reads a dense model as an MLP that keeps the file's input and output widths", () => {
    // Execute
    const read = modelFromLayersJson(modelJson([dense(16, "relu", { inputShape: [30] }), tfl.layers.dropout({ rate: 0.2 }), dense(8, "relu"), dense(1, "sigmoid", { name: "risk" })], true));

    // Assert
    expect(read.spec).toEqual({ kind: "mlp", hidden: [16, 8], inputs: 30, outputs: 1 });
    expect([read.inputs, read.outputs, read.head]).toEqual([30, 1, "risk"]);
    expect(read.notes).toEqual([
      expect.stringMatching(/^model\.json: layer 2 \(Dropout "dropout_\w+"\) left out: the runner trains without dropout$/),
      "model.json: its weights are not loaded; the federation starts from its own initialisation (Glorot-uniform kernels, zero biases and output layer)",
    ]);
    expect(modelLayout(read.spec, 30, 1).bodySize).toBe(30 * 16 + 16 + 16 * 8 + 8 + 8 + 1);
  });

  it("reads an image model (reshape, convolutions with pooling, flatten, dense, softmax) as a CNN", () => {
    const read = modelFromLayersJson(modelJson([
      tfl.layers.reshape({ targetShape: [8, 8, 1], inputShape: [64] }),
      tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same", activation: "relu" }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: "same", activation: "relu" }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      dense(32, "relu"),
      dense(10, "softmax"),
    ]));
    expect(read.spec).toEqual({ kind: "cnn", image: [8, 8, 1], conv: [8, 16], dense: [32], outputs: 10 });
  });

  it.each([
    ["a 5×5 convolution", [tfl.layers.conv2d({ filters: 4, kernelSize: 5, padding: "same", activation: "relu", inputShape: [8, 8, 1] }), tfl.layers.maxPooling2d({ poolSize: 2 }), tfl.layers.flatten(), dense(3, "softmax")], /layer 1 \(Conv2D "[^"]+"\): the runner's convolutions are 3×3, stride 1, padding "same", ReLU, channels last \(here kernel \[5,5\]/],
    ["a convolution without pooling", [tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", activation: "relu", inputShape: [8, 8, 1] }), tfl.layers.flatten(), dense(3, "softmax")], /each convolution is followed by 2×2 max pooling/],
    ["a tanh hidden layer", [dense(4, "tanh", { inputShape: [5] }), dense(1, "sigmoid")], /layer 1 \(Dense "[^"]+"\): hidden dense layers use ReLU in the runner's networks, not "tanh"/],
    ["a layer the runner does not compute", [tfl.layers.batchNormalization({ inputShape: [5] }), dense(1, "sigmoid")], /BatchNormalization.*a layer the runner does not compute/],
    ["a softmax over two units", [dense(2, "softmax", { inputShape: [5] })], /a softmax output of 2 units: a binary outcome has one sigmoid unit/],
    ["a dense layer on an image", [dense(4, "relu", { inputShape: [8, 8, 1] }), dense(1, "sigmoid")], /add a Flatten layer before it/],
  ])("refuses %s, naming the layer and what the runner computes", (_name, layers, message) => {
    expect(() => modelFromLayersJson(modelJson(layers as tfl.layers.Layer[]))).toThrow(message);
  });

  it("reads a Functional model whose layers form one chain (an input layer, then a reshape to the image), and refuses one that does not", () => {
    const input = tfl.input({ shape: [64] });
    const image = tfl.layers.reshape({ targetShape: [8, 8, 1] }).apply(input) as tfl.SymbolicTensor;
    const conv = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", activation: "relu" }).apply(image) as tfl.SymbolicTensor;
    const pooled = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(conv) as tfl.SymbolicTensor;
    const flat = tfl.layers.flatten().apply(pooled) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 10, activation: "softmax", name: "classes" }).apply(flat) as tfl.SymbolicTensor;
    const chain = JSON.stringify({ modelTopology: tfl.model({ inputs: input, outputs: out }).toJSON(null, false) });
    expect(modelFromLayersJson(chain)).toMatchObject({ spec: { kind: "cnn", image: [8, 8, 1], conv: [4], dense: [], outputs: 10 }, head: "classes" });
    // Its output an earlier layer: the last would be trained for nothing.
    const early = JSON.stringify({ modelTopology: tfl.model({ inputs: input, outputs: flat }).toJSON(null, false) });
    expect(() => modelFromLayersJson(early.replace(/"output_layers":\[\["[^"]+"/, '"output_layers":[["flatten_x"'))).toThrow(/the model's output is "flatten_x", not its last layer/);
    // An image with no convolution, and a reshape that leaves a dimension to guess.
    expect(() => modelFromLayersJson(modelJson([tfl.layers.flatten({ inputShape: [8, 8, 1] }), dense(10, "softmax")]))).toThrow(/an image model without a convolution/);
    const guessed = modelJson([tfl.layers.reshape({ targetShape: [8, 8, 1], inputShape: [64] }), tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: "same", activation: "relu" }), tfl.layers.maxPooling2d({ poolSize: 2 }), tfl.layers.flatten(), dense(3, "softmax")]).replace('"target_shape":[8,8,1]', '"target_shape":[8,-1,1]');
    expect(guessed).toContain("[8,-1,1]");
    expect(() => modelFromLayersJson(guessed)).toThrow(/each given, no -1/);
  });

  it("refuses a head on a layer the consortium shares, and what is not a Layers model", () => {
    const text = modelJson([dense(4, "relu", { inputShape: [5], name: "hidden" }), dense(1, "sigmoid", { name: "out" })]);
    expect(() => modelFromLayersJson(text, "hidden")).toThrow(new ConfigError('model.json: the personal head sits on the output layer "out", not on "hidden" (a layer the runner shares with the consortium)'));
    expect(modelFromLayersJson(text, "out").head).toBe("out");
    expect(() => modelFromLayersJson("{")).toThrow(/^model\.json is not JSON/);
    expect(() => modelFromLayersJson(JSON.stringify({ modelTopology: { class_name: "Sequential" } }))).toThrow(/is not a TensorFlow\.js Layers model: modelTopology\.config/);
  });

  it("is refused by the layout when the features or the label do not fit it, naming both widths", () => {
    const { spec } = modelFromLayersJson(modelJson([dense(4, "relu", { inputShape: [31] }), dense(1, "sigmoid")]));
    expect(() => modelLayout(spec, 30, 1)).toThrow(new ConfigError("the model takes 31 inputs, the features make 30"));
    expect(() => modelLayout({ kind: "mlp", hidden: [4], inputs: 30, outputs: 1 }, 30, 3)).toThrow(new ConfigError("the model has 1 output, the label needs 3 (one per class of 3)"));
  });
});

describe("consilium simulate --model-json", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "consilium-model-json-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a model whose input width is not the features', naming both, before anything starts", async () => {
    const file = join(dir, "wide.json");
    await writeFile(file, modelJson([dense(8, "relu", { inputShape: [31] }), dense(1, "sigmoid")]));
    const run = simulateCommand(["--dataset", "wdbc", "--model-json", file, "--quiet"], memoryIo());
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow(`--model-json ${file}: the model takes 31 inputs, the features make 30`);
  });

  it("trains one that fits end to end: wdbc's 30 inputs, and a CNN of its own on the digits", async () => {
    // Prepare
    const mlp = join(dir, "wdbc.json");
    await writeFile(mlp, modelJson([dense(8, "relu", { inputShape: [30] }), dense(1, "sigmoid", { name: "malignant" })]));
    const cnn = join(dir, "digits.json");
    await writeFile(cnn, modelJson([
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", activation: "relu", inputShape: [8, 8, 1] }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      dense(10, "softmax"),
    ]));

    // Execute
    const a = (await simulateCommand(["--dataset", "wdbc", "--sites", "3", "--rounds", "5", "--model-json", mlp, "--head", "malignant", "--quiet"], memoryIo())) as Report;
    const b = (await simulateCommand(["--dataset", "digits", "--sites", "3", "--rounds", "5", "--model-json", cnn, "--quiet"], memoryIo())) as Report;

    // Assert
    expect(a.model).toBe("mlp:8 (30 inputs, 1 output)");
    expect(a.runs[0]!.pooled.global.auroc).toBeGreaterThan(0.95);
    expect(b.model).toBe("cnn:8x8x1:4 (10 outputs)");
    expect(b.runs[0]!.classes!.global.accuracy).toBeGreaterThan(0.8);
  }, 180_000);
});
