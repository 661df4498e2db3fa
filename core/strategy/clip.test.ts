import { describe, expect, it } from "vitest";
import { clipMedian } from "./clip-median.ts";
import { clip } from "./clip.ts";
import { seededVector } from "../../test/support/strategy-conformance.ts";
import { norm, site } from "../../test/support/strategy.ts";

describe("norm clipping", () => {
  it("bounds every delta's L2 norm, and leaves deltas within the bound as they are", () => {
    // Prepare: norms from about 0.3 to 300.
    const updates = [0.1, 1, 10, 100].map((spread, s) => site(`s${s}`, seededVector(30, s + 1, spread), 1 + s));

    // Execute
    const out = clip(5).apply(updates, 30);

    // Assert
    for (const [s, u] of out.entries()) {
      const before = norm(updates[s]?.delta ?? []);
      expect(norm(u.delta)).toBeLessThanOrEqual(5 * (1 + 1e-6));
      if (before <= 5) expect(u.delta).toBe(updates[s]?.delta);
      else expect(norm(u.delta)).toBeCloseTo(5, 5);
      expect(u.weight).toBe(updates[s]?.weight);
    }
  });

  it("keeps the direction of a clipped delta", () => {
    // Execute
    const [out] = clip(1).apply([site("a", [3, -4], 2)], 2);

    // Assert
    expect(Array.from(out?.delta ?? [])).toEqual([Math.fround(0.6), Math.fround(-0.8)]);
  });

  it("clips to a factor of the median norm, counted by sites, not samples", () => {
    // Prepare: norms 1, 2, 3 and 10 (median 2.5); with K = 2 the bound is 5, whatever the heavy site claims.
    const updates = [site("a", [1, 0], 1), site("b", [0, 2], 1), site("c", [3, 0], 1), site("heavy", [0, -10], 1000)];

    // Execute
    const out = clipMedian(2).apply(updates, 2);

    // Assert
    expect(out.map((u) => norm(u.delta))).toEqual([1, 2, 3, 5]);
    expect(Array.from(out[3]?.delta ?? [])).toEqual([0, -5]);
  });
});
