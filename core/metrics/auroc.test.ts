import { describe, expect, it } from "vitest";
import { aurocFromHistogram } from "./auroc.ts";

describe("aurocFromHistogram", () => {
  it("matches a hand-computed Mann–Whitney U with ties across classes", () => {
    // Prepare: U = 1·(0 + 2/2) + 2·(2 + 1/2) + 0 + 1·4 = 10 over P·N = 4·4 pairs.
    const pos = [1, 2, 0, 1];
    const neg = [2, 1, 1, 0];

    // Execute
    const auroc = aurocFromHistogram(pos, neg);

    // Assert
    expect(auroc).toBeCloseTo(10 / 16, 12);
  });

  it("gives half credit when every score falls in one bin", () => {
    // Prepare
    const pos = [0, 3, 0];
    const neg = [0, 5, 0];

    // Execute
    const auroc = aurocFromHistogram(pos, neg);

    // Assert
    expect(auroc).toBeCloseTo(0.5, 12);
  });

  it("is 1 for a perfect ranking and 0 for an inverted one", () => {
    // Prepare
    const low = [4, 1, 0, 0];
    const high = [0, 0, 2, 3];

    // Execute
    const perfect = aurocFromHistogram(high, low);
    const inverted = aurocFromHistogram(low, high);

    // Assert
    expect(perfect).toBeCloseTo(1, 12);
    expect(inverted).toBeCloseTo(0, 12);
  });

  it("is null for a site with a single class", () => {
    // Prepare
    const some = [1, 2, 3];
    const none = [0, 0, 0];

    // Execute
    const onlyPositives = aurocFromHistogram(some, none);
    const onlyNegatives = aurocFromHistogram(none, some);
    const empty = aurocFromHistogram(none, none);

    // Assert
    expect([onlyPositives, onlyNegatives, empty]).toEqual([null, null, null]);
  });

  it("accepts typed arrays", () => {
    // Prepare
    const pos = new Float64Array([0, 1, 1]);
    const neg = new Uint32Array([1, 1, 0]);

    // Execute
    const auroc = aurocFromHistogram(pos, neg);

    // Assert
    expect(auroc).toBeCloseTo(3.5 / 4, 12);
  });

  it("rejects histograms with different bins", () => {
    // Prepare
    const call = () => aurocFromHistogram([1, 0, 0], [0, 1]);

    // Execute / Assert
    expect(call).toThrow(
      expect.objectContaining({ code: "BINS_MISMATCH", message: "pos has 3 bins but neg has 2" }),
    );
  });
});
