import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { ModelSpec, parseModelSpec } from "./model-spec.ts";

describe("parseModelSpec", () => {
  it.each([
    ["logreg", { kind: "logreg" }],
    ["mlp:32", { kind: "mlp", hidden: [32] }],
    ["mlp:64,32", { kind: "mlp", hidden: [64, 32] }],
    ["mlp:4096,1,1,1,1,1,1,1", { kind: "mlp", hidden: [4096, 1, 1, 1, 1, 1, 1, 1] }],
  ])("reads %j", (text, expected) => {
    // Execute
    const spec = parseModelSpec(text);

    // Assert
    expect(spec).toEqual(expected);
    expect(ModelSpec.parse(spec)).toEqual(expected);
  });

  it.each([
    ["mlp", 'unknown model "mlp" (expected logreg or mlp:H[,H...])'],
    ["mlp:", 'unknown model "mlp:" (expected logreg or mlp:H[,H...])'],
    ["mlp:32,", 'unknown model "mlp:32," (expected logreg or mlp:H[,H...])'],
    ["mlp:-3", 'unknown model "mlp:-3" (expected logreg or mlp:H[,H...])'],
    ["mlp:1.5", 'unknown model "mlp:1.5" (expected logreg or mlp:H[,H...])'],
    [" logreg", 'unknown model " logreg" (expected logreg or mlp:H[,H...])'],
    ["cnn", 'unknown model "cnn" (expected logreg or mlp:H[,H...])'],
    ["mlp:0", 'invalid model "mlp:0": hidden[0]: Too small: expected number to be >0'],
    ["mlp:16,5000", 'invalid model "mlp:16,5000": hidden[1]: Too big: expected number to be <=4096'],
    ["mlp:1,1,1,1,1,1,1,1,1", 'invalid model "mlp:1,1,1,1,1,1,1,1,1": hidden: Too big: expected array to have <=8 items'],
  ])("rejects %j with a ConfigError", (text, message) => {
    // Execute
    const run = () => parseModelSpec(text);

    // Assert
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });
});

describe("ModelSpec", () => {
  it("rejects an unknown kind", () => {
    // Execute
    const result = ModelSpec.safeParse({ kind: "cnn" });

    // Assert
    expect(result.error?.issues.map((i) => [i.path, i.message])).toEqual([[["kind"], "Invalid discriminator value. Expected 'logreg' | 'mlp'"]]);
  });
});
