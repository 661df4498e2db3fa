import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { ModelSpec, modelSpecText, parseModelSpec } from "./model-spec.ts";

describe("parseModelSpec", () => {
  it.each([
    ["logreg", { kind: "logreg" }],
    ["mlp:32", { kind: "mlp", hidden: [32] }],
    ["mlp:64,32", { kind: "mlp", hidden: [64, 32] }],
    ["mlp:4096,1,1,1,1,1,1,1", { kind: "mlp", hidden: [4096, 1, 1, 1, 1, 1, 1, 1] }],
    ["cnn:8x8x1:8,16:64", { kind: "cnn", image: [8, 8, 1], conv: [8, 16], dense: [64] }],
    ["cnn:28x32x3:4", { kind: "cnn", image: [28, 32, 3], conv: [4], dense: [] }],
  ])("reads %j", (text, expected) => {
    // Execute
    const spec = parseModelSpec(text);

    // Assert
    expect(spec).toEqual(expected);
    expect(ModelSpec.parse(spec)).toEqual(expected);
    expect(modelSpecText(spec)).toBe(text);
  });

  it.each([
    ["mlp", 'unknown model "mlp" (expected logreg, mlp:H[,H...] or cnn:HxWxC:F[,F...][:D[,D...]])'],
    ["mlp:", 'unknown model "mlp:" (expected logreg, mlp:H[,H...] or cnn:HxWxC:F[,F...][:D[,D...]])'],
    ["mlp:32,", 'unknown model "mlp:32," (expected logreg, mlp:H[,H...] or cnn:HxWxC:F[,F...][:D[,D...]])'],
    ["mlp:-3", 'unknown model "mlp:-3" (expected logreg, mlp:H[,H...] or cnn:HxWxC:F[,F...][:D[,D...]])'],
    ["mlp:1.5", 'unknown model "mlp:1.5" (expected logreg, mlp:H[,H...] or cnn:HxWxC:F[,F...][:D[,D...]])'],
    [" logreg", 'unknown model " logreg" (expected logreg, mlp:H[,H...] or cnn:HxWxC:F[,F...][:D[,D...]])'],
    ["cnn", 'unknown model "cnn" (expected logreg, mlp:H[,H...] or cnn:HxWxC:F[,F...][:D[,D...]])'],
    ["mlp:0", 'invalid model "mlp:0": hidden[0]: Too small: expected number to be >0'],
    ["mlp:16,5000", 'invalid model "mlp:16,5000": hidden[1]: Too big: expected number to be <=4096'],
    ["mlp:1,1,1,1,1,1,1,1,1", 'invalid model "mlp:1,1,1,1,1,1,1,1,1": hidden: Too big: expected array to have <=8 items'],
    ["cnn:8x8:8", 'unknown model "cnn:8x8:8" (expected logreg, mlp:H[,H...] or cnn:HxWxC:F[,F...][:D[,D...]])'],
    ["cnn:8x8x0:8", 'invalid model "cnn:8x8x0:8": image[2]: Too small: expected number to be >=1'],
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
    const result = ModelSpec.safeParse({ kind: "rnn" });

    // Assert
    expect(result.error?.issues.map((i) => [i.path, i.message])).toEqual([[["kind"], "Invalid discriminator value. Expected 'logreg' | 'mlp' | 'cnn'"]]);
  });
});
