import { describe, expect, it } from "vitest";
import { expectClose } from "../../test/support/strategy-conformance.ts";
import { geometricMedianOf } from "./geomed.ts";
import { aggregated, site } from "../../test/support/strategy.ts";

describe("geometric median known answers", () => {
  it("lands on the centre of points placed symmetrically around it", () => {
    // Prepare: the four points (±1, 0) and (0, ±1) around (3, 3).
    const updates = [site("e", [4, 3], 1), site("w", [2, 3], 1), site("n", [3, 4], 1), site("s", [3, 2], 1)];

    // Execute
    const { delta } = aggregated("geomed", updates);

    // Assert
    expectClose(delta, [3, 3], 1e-7);
  });

  it("finds the Fermat point of an equilateral triangle, its centre", () => {
    // Prepare
    const corner = (angle: number) => [Math.cos(angle), Math.sin(angle)];
    const updates = [site("a", corner(Math.PI / 2), 1), site("b", corner((7 * Math.PI) / 6), 1), site("c", corner((11 * Math.PI) / 6), 1)];

    // Execute
    const { delta } = aggregated("geomed", updates);

    // Assert
    expectClose(delta, [0, 0], 1e-6);
  });

  it("takes the middle of three points on a line, where the mean would not be", () => {
    // Prepare: on a line the geometric median is the ordinary median, 1; the mean is 11/3.
    const deltas = [Float32Array.of(0, 0), Float32Array.of(1, 0), Float32Array.of(10, 0)];
    const out = new Float32Array(2);

    // Execute
    geometricMedianOf(deltas, [1, 1, 1], 100, out);

    // Assert
    expectClose(out, [1, 0], 1e-4);
  });

  it("weights by samples: a site holding most of them pulls the median onto itself", () => {
    // Prepare: weight 5 against two sites of 1, whose unit pulls sum to at most 2 < 5, so the optimum is the heavy point.
    const deltas = [Float32Array.of(0, 0), Float32Array.of(1, 0), Float32Array.of(0, 1)];
    const out = new Float32Array(2);

    // Execute
    geometricMedianOf(deltas, [5, 1, 1], 100, out);

    // Assert
    expectClose(out, [0, 0], 1e-4);
  });

  it("stops once an iteration no longer lowers the sum of distances, and never after the bound", () => {
    // Prepare
    const deltas = [Float32Array.of(0, 0), Float32Array.of(1, 0), Float32Array.of(10, 0), Float32Array.of(0, 3)];
    const out = new Float32Array(2);

    // Execute
    const bounded = geometricMedianOf(deltas, [1, 1, 1, 1], 2, out);
    const converged = geometricMedianOf(deltas, [1, 1, 1, 1], 100, out);
    const same = geometricMedianOf([Float32Array.of(2, 2), Float32Array.of(2, 2)], [1, 3], 100, out);

    // Assert
    expect(bounded).toBe(2);
    expect(converged).toBeGreaterThan(2);
    expect(converged).toBeLessThan(100);
    expect(same).toBe(0);
    expectClose(out, [2, 2], 0);
  });

  it("is not dragged off by a delta a million times larger, even from its start", () => {
    // Prepare
    const honest = [site("a", [1, 0], 1), site("b", [1.1, 0.1], 1), site("c", [0.9, -0.1], 1), site("d", [1, 0.05], 1)];
    const huge = site("z", [-1e6, 1e6], 1);

    // Execute
    const { delta } = aggregated("geomed", [...honest, huge]);

    // Assert
    expectClose(delta, [1, 0], 0.15);
  });
});
