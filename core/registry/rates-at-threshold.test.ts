import { describe, expect, it } from "vitest";
import { countPredictions } from "../metrics/count-predictions.ts";
import { ratesAtThreshold } from "./rates-at-threshold.ts";

// Positives at 0.15, 0.35, 0.65, 0.85; negatives at 0.05, 0.15, 0.45.
const scores = new Float64Array([0.15, 0.35, 0.65, 0.85, 0.05, 0.15, 0.45]);
const labels = new Uint8Array([1, 1, 1, 1, 0, 0, 0]);

describe("ratesAtThreshold", () => {
  it("reads 0.5 from the confusion counts, even where a bin straddles it", () => {
    // Prepare: of 3 bins the middle one spans [1/3, 2/3).
    const c = countPredictions(scores, labels, 3);

    // Execute / Assert
    expect(ratesAtThreshold(c)).toEqual({ sensitivity: 0.5, specificity: 1 });
  });

  it("reads a threshold on a bin edge from the histograms", () => {
    // Prepare
    const c = countPredictions(scores, labels, 10);

    // Execute / Assert: ≥ 0.3 catches 3 of 4 positives and 1 of 3 negatives (0.45).
    expect(ratesAtThreshold(c, 0.3)).toEqual({ sensitivity: 0.75, specificity: 2 / 3 });
    expect(ratesAtThreshold(c, 0.1)).toEqual({ sensitivity: 1, specificity: 1 / 3 });
  });

  it("takes a threshold a rounding error off an edge as on it", () => {
    // Prepare: 0.2 × 1000 is 200.00000000000003 in floating point.
    const c = countPredictions(scores, labels, 1000);

    // Execute / Assert
    expect(ratesAtThreshold(c, 0.2)).toEqual({ sensitivity: 0.75, specificity: 2 / 3 });
  });

  it("refuses a threshold inside a bin", () => {
    // Prepare
    const c = countPredictions(scores, labels, 4);

    // Execute / Assert
    expect(() => ratesAtThreshold(c, 0.3)).toThrow("threshold 0.3 falls inside a bin of 4; the histograms resolve only multiples of 1/4");
  });

  it("gives null for an absent class", () => {
    // Prepare
    const c = countPredictions(new Float64Array([0.2, 0.7]), new Uint8Array([0, 0]), 10);

    // Execute / Assert
    expect(ratesAtThreshold(c, 0.6)).toEqual({ sensitivity: null, specificity: 0.5 });
  });
});
