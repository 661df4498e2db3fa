import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { countPredictions } from "./count-predictions.ts";
import { DEFAULT_BINS, EvalCounts } from "./eval-counts.ts";

describe("countPredictions", () => {
  it("counts a score of exactly 0.5 as a positive prediction", () => {
    // Prepare
    const scores = new Float64Array([0.5, 0.5, 0.49999999, 0.49999999]);
    const labels = new Uint8Array([1, 0, 1, 0]);

    // Execute
    const counts = countPredictions(scores, labels, 4);

    // Assert
    expect(counts).toEqual({ n: 4, tp: 1, fp: 1, tn: 1, fn: 1, pos: [0, 1, 1, 0], neg: [0, 1, 1, 0] });
  });

  it("bins by floor(score·bins) and puts a score of 1 in the last bin", () => {
    // Prepare
    const scores = new Float32Array([0, 0.25, 0.74, 1]);
    const labels = new Uint8Array([0, 0, 1, 1]);

    // Execute
    const counts = countPredictions(scores, labels, 4);

    // Assert
    expect(counts.neg).toEqual([1, 1, 0, 0]);
    expect(counts.pos).toEqual([0, 0, 1, 1]);
  });

  it("produces counts the wire schema accepts, for odd bins and the default", () => {
    // Prepare
    const scores = new Float64Array([0.1, 0.45, 0.5, 0.55, 0.9, 0.3]);
    const labels = new Uint8Array([0, 1, 0, 1, 1, 0]);

    // Execute
    const odd = countPredictions(scores, labels, 5);
    const standard = countPredictions(scores, labels);

    // Assert
    expect(EvalCounts.safeParse(odd).success).toBe(true);
    expect(EvalCounts.safeParse(standard).success).toBe(true);
    expect(standard.pos).toHaveLength(DEFAULT_BINS);
  });

  it("accepts an empty dataset", () => {
    // Prepare
    const scores = new Float64Array(0);
    const labels = new Uint8Array(0);

    // Execute
    const counts = countPredictions(scores, labels, 2);

    // Assert
    expect(counts).toEqual({ n: 0, tp: 0, fp: 0, tn: 0, fn: 0, pos: [0, 0], neg: [0, 0] });
  });

  it.each([
    [new Float64Array([0.1]), new Uint8Array([0, 1]), "1 scores but 2 labels"],
    [new Float64Array([0.1, 1.5]), new Uint8Array([0, 1]), "scores[1] = 1.5 is not a number in [0, 1]"],
    [new Float64Array([-0.1]), new Uint8Array([0]), "scores[0] = -0.1 is not a number in [0, 1]"],
    [new Float64Array([Number.NaN]), new Uint8Array([0]), "scores[0] = NaN is not a number in [0, 1]"],
    [new Float32Array([Infinity]), new Uint8Array([1]), "scores[0] = Infinity is not a number in [0, 1]"],
    [new Float64Array([0.3, 0.7]), new Uint8Array([1, 2]), "labels[1] = 2 is not 0 or 1"],
  ])("rejects invalid predictions (%#)", (scores, labels, message) => {
    // Prepare
    const call = () => countPredictions(scores, labels, 10);

    // Execute / Assert
    expect(call).toThrow(expect.objectContaining({ code: "INVALID_PREDICTIONS", message }));
  });

  it.each([1, 2.5, 100_001])("rejects %s bins as a configuration error", (bins) => {
    // Prepare
    const call = () => countPredictions(new Float64Array([0.2]), new Uint8Array([1]), bins);

    // Execute / Assert
    expect(call).toThrow(ConfigError);
    expect(call).toThrow(`bins must be an integer between 2 and 100000, got ${bins}`);
  });
});
