import { describe, expect, it } from "vitest";
import { site } from "../../test/support/strategy.ts";
import { scoreUpdates } from "./score-updates.ts";

function expectClose(actual: readonly number[], expected: readonly number[], tolerance: number): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]!), `index ${i}: got ${a}, expected ${expected[i]}`).toBeLessThanOrEqual(tolerance));
}

describe("scoreUpdates", () => {
  it("divides each distance from the coordinate-wise median by the median distance, and each norm by the median norm", () => {
    // Prepare: the centre is [3]; distances 2, 1, 0, 1, 97 (median 1); norms 1, 2, 3, 4, 100 (median 3).
    const updates = [[1], [2], [3], [4], [100]].map((d, i) => site(`s${i}`, d, 1));

    // Execute
    const { coherence, scores } = scoreUpdates(updates, Float32Array.of(3));

    // Assert
    expectClose(scores.map((s) => s.distance), [2, 1, 0, 1, 97], 1e-12);
    expectClose(scores.map((s) => s.norm), [1 / 3, 2 / 3, 1, 4 / 3, 100 / 3], 1e-7);
    expect(scores.map((s) => s.agreement)).toEqual([1, 1, 1, 1, 1]);
    expect(scores.map((s) => s.alignment)).toEqual([1, 1, 1, 1, 1]);
    expect(coherence).toBe(1);
    expect(scores.map((s) => s.siteId)).toEqual(["s0", "s1", "s2", "s3", "s4"]);
  });

  it("measures agreement against the aggregate and alignment against the centre, and ignores weights", () => {
    // Prepare: each coordinate sorts to [-1, 0, 1, 1], so the centre is [0.5, 0.5].
    const updates = [site("a", [1, 0], 1), site("b", [0, 1], 100), site("c", [-1, -1], 1), site("d", [1, 1], 1)];

    // Execute
    const { coherence, scores } = scoreUpdates(updates, Float32Array.of(2, -2));

    // Assert: distances √0.5, √0.5, √4.5, √0.5 over their median √0.5.
    expectClose(scores.map((s) => s.distance), [1, 1, 3, 1], 1e-9);
    expectClose(scores.map((s) => s.alignment), [Math.SQRT1_2, Math.SQRT1_2, -1, 1], 1e-7);
    expectClose(scores.map((s) => s.agreement), [Math.SQRT1_2, -Math.SQRT1_2, 0, 0], 1e-7);
    expectClose([coherence!], [Math.SQRT1_2], 1e-7);
  });

  it("takes the centre, the scales and the coherence from the trusted cohort only", () => {
    // Prepare: four honest sites along +x, a quarantined one far along −x.
    const updates = [site("a", [1, 0], 1), site("b", [1, 0.1], 1), site("c", [1, -0.1], 1), site("e", [1, 0], 1), site("q", [-50, 0], 1)];

    // Execute
    const { coherence, scores } = scoreUpdates(updates, Float32Array.of(1, 0), ["q"]);

    // Assert: centre [1, 0], median norm (1 + √1.01) / 2; q is scored against it but does not move it.
    const q = scores.find((s) => s.siteId === "q")!;
    expectClose([q.alignment, q.norm], [-1, 50 / ((1 + Math.hypot(1, 0.1)) / 2)], 1e-6);
    expect(coherence).toBeGreaterThan(0.99);
  });

  it("takes as coherence the alignment at least half the cohort reaches, which one outlier cannot drag down", () => {
    // Prepare: centre [0.4, 0.05]; alignments ≈ 0.995, 1.000, −0.073, −0.995, whose plain median is 0.46.
    const updates = [site("a", [1, 0], 1), site("b", [1, 0.1], 1), site("c", [-0.2, 1], 1), site("d", [-10, 0], 1)];

    // Execute
    const { coherence, scores } = scoreUpdates(updates, Float32Array.of(0, 0));

    // Assert
    const alignment = (id: string) => scores.find((x) => x.siteId === id)!.alignment;
    expect(coherence).toBe(alignment("a"));
    expectClose([coherence!], [0.4 / Math.hypot(0.4, 0.05)], 1e-6);
  });

  it("has no coherence with fewer than four trusted sites", () => {
    // Prepare
    const four = ["a", "b", "c", "d"].map((id) => site(id, [1, 2], 1));

    // Execute
    const withFour = scoreUpdates(four, Float32Array.of(1, 2));
    const withThree = scoreUpdates(four, Float32Array.of(1, 2), ["d"]);

    // Assert
    expect(withFour.coherence).toBeCloseTo(1, 12);
    expect(withThree.coherence).toBeNull();
    expect(withThree.scores).toHaveLength(4);
  });

  it("gives agreement 0 against a zero aggregate and scores nothing for no updates", () => {
    // Execute
    const { scores } = scoreUpdates([site("a", [1, 2], 1)], new Float32Array(2));

    // Assert
    expect(scores).toHaveLength(1);
    expect(scores[0]).toMatchObject({ siteId: "a", distance: 0, agreement: 0, norm: 1 });
    expectClose([scores[0]!.alignment], [1], 1e-12);
    expect(scoreUpdates([], new Float32Array(2))).toEqual({ coherence: null, scores: [] });
  });
});
