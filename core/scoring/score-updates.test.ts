import { describe, expect, it } from "vitest";
import { site } from "../strategy/testing.ts";
import { scoreUpdates } from "./score-updates.ts";

function expectClose(actual: readonly number[], expected: readonly number[], tolerance: number): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]!), `index ${i}: got ${a}, expected ${expected[i]}`).toBeLessThanOrEqual(tolerance));
}

describe("scoreUpdates", () => {
  it("divides each distance from the coordinate-wise median by the median distance", () => {
    // Prepare: the centre is [3]; distances 2, 1, 0, 1, 97, whose median is 1.
    const updates = [[1], [2], [3], [4], [100]].map((d, i) => site(`s${i}`, d, 1));

    // Execute
    const scores = scoreUpdates(updates, Float32Array.of(3));

    // Assert
    expectClose(scores.map((s) => s.distance), [2, 1, 0, 1, 97], 1e-12);
    expect(scores.map((s) => s.agreement)).toEqual([1, 1, 1, 1, 1]);
    expect(scores.map((s) => s.siteId)).toEqual(["s0", "s1", "s2", "s3", "s4"]);
  });

  it("measures agreement as the cosine with the aggregate, and ignores weights", () => {
    // Prepare: each coordinate sorts to [-1, 0, 1, 1], so the centre is [0.5, 0.5].
    const updates = [site("a", [1, 0], 1), site("b", [0, 1], 100), site("c", [-1, -1], 1), site("d", [1, 1], 1)];

    // Execute
    const scores = scoreUpdates(updates, Float32Array.of(2, 2));

    // Assert: distances √0.5, √0.5, √4.5, √0.5 over their median √0.5.
    expectClose(scores.map((s) => s.distance), [1, 1, 3, 1], 1e-9);
    expectClose(scores.map((s) => s.agreement), [Math.SQRT1_2, Math.SQRT1_2, -1, 1], 1e-7);
  });

  it("scores identical sites at distance 0 and agreement 1", () => {
    // Prepare
    const updates = ["a", "b", "c"].map((id) => site(id, [0.1, -0.2, 0.3], 2));

    // Execute
    const scores = scoreUpdates(updates, Float32Array.of(0.1, -0.2, 0.3));

    // Assert
    expect(scores.map((s) => s.distance)).toEqual([0, 0, 0]);
    expectClose(scores.map((s) => s.agreement), [1, 1, 1], 1e-7);
  });

  it("gives agreement 0 against a zero aggregate and scores nothing for no updates", () => {
    // Execute
    const scores = scoreUpdates([site("a", [1, 2], 1)], new Float32Array(2));

    // Assert
    expect(scores).toEqual([{ siteId: "a", distance: 0, agreement: 0 }]);
    expect(scoreUpdates([], new Float32Array(2))).toEqual([]);
  });
});
