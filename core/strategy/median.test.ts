import { describe, expect, it } from "vitest";
import { expectClose } from "../../test/support/strategy-conformance.ts";
import { weightedMedianOf } from "./median.ts";
import { aggregated, site } from "../../test/support/strategy.ts";

describe("median known answers", () => {
  it("takes the middle value of each coordinate for an odd number of equal-weight sites", () => {
    // Prepare: coordinate 0 sorts to [1, 2, 3], coordinate 1 to [0, 10, 20], coordinate 2 to [-3, -2, -1].
    const updates = [site("a", [1, 10, -1], 5), site("b", [2, 20, -3], 5), site("c", [3, 0, -2], 5)];

    // Execute
    const { delta } = aggregated("median", updates);

    // Assert
    expectClose(delta, [2, 10, -2], 0);
  });

  it("takes the mean of the middle two for an even number of equal-weight sites", () => {
    // Prepare: coordinate 0 sorts to [1, 2, 3, 4], coordinate 1 to [-8, 0, 0, 100].
    const updates = [site("a", [4, 0], 2), site("b", [1, 100], 2), site("c", [3, -8], 2), site("d", [2, 0], 2)];

    // Execute
    const { delta } = aggregated("median", updates);

    // Assert
    expectClose(delta, [2.5, 0], 0);
  });

  it("takes the value at half the total weight when weights differ", () => {
    // Prepare: weights 1, 1, 3 (total 5, half 2.5); sorted 0 (to 1), 5 (to 4), 10 (to 5): half lies in the 5s.
    const updates = [site("a", [0], 1), site("b", [10], 1), site("c", [5], 3)];

    // Execute
    const { delta } = aggregated("median", updates);

    // Assert
    expectClose(delta, [5], 0);
  });

  it("lets a site holding more than half the samples decide every coordinate", () => {
    // Prepare
    const updates = [site("a", [0, 1], 1), site("b", [10, 2], 1), site("big", [-7, 3], 4)];

    // Execute
    const { delta } = aggregated("median", updates);

    // Assert
    expectClose(delta, [-7, 3], 0);
  });

  it("averages the two values meeting exactly at half the weight", () => {
    // Prepare: weights 1, 2, 3 (half 3); sorted 1 (to 1), 2 (to 3), 3 (to 6): half is the boundary of 2 and 3.
    const updates = [site("a", [1], 1), site("b", [2], 2), site("c", [3], 3)];

    // Execute
    const { delta } = aggregated("median", updates);

    // Assert
    expectClose(delta, [2.5], 0);
  });

  it.each([
    [41, 20],
    [40, 19.5],
  ])("finds the median of %i shuffled values 0, 1, … by selection", (n, expected) => {
    // Prepare: a fixed shuffle (7 is coprime to 40 and 41).
    const deltas = Array.from({ length: n }, (_, s) => Float32Array.of((s * 7) % n));

    // Execute
    const out = weightedMedianOf(deltas, new Array(n).fill(1), new Float32Array(1));

    // Assert
    expect(out[0]).toBe(expected);
  });
});
