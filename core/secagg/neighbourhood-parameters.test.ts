import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { binomialAtLeast, binomialBelow, neighbourhoodParameters } from "./neighbourhood-parameters.ts";

describe("neighbourhoodParameters", () => {
  it.each([
    // sites, k, t, complete, meets the default targets (30 % dropout, 10 % collusion, 1e-4, 1e-8)
    [10, 9, 5, true, false],
    [30, 29, 15, true, false],
    [50, 49, 21, true, true],
    [100, 66, 28, false, true],
    [1000, 74, 30, false, true],
    [10_000, 82, 33, false, true],
  ])("chooses k and t for %i sites: k = %i, t = %i", (sites, k, t, complete, meets) => {
    // Execute
    const p = neighbourhoodParameters(sites);

    // Assert
    expect(p).toMatchObject({ neighbours: k, threshold: t, complete, meetsTargets: meets });
    if (meets) {
      expect(p.failureBound).toBeLessThanOrEqual(1e-4);
      expect(p.exposureBound).toBeLessThanOrEqual(1e-8);
    }
  });

  it("needs more neighbours for more dropouts", () => {
    // Execute
    const calm = neighbourhoodParameters(1000, { dropout: 0.05, collusion: 0.05 });
    const stormy = neighbourhoodParameters(1000, { dropout: 0.4, collusion: 0.05 });

    // Assert
    expect(calm.neighbours).toBeLessThan(stormy.neighbours);
    expect(calm.meetsTargets && stormy.meetsTargets).toBe(true);
  });

  it("rejects fewer than 3 sites and targets out of range", () => {
    // Execute / Assert
    expect(() => neighbourhoodParameters(2)).toThrow(new ConfigError("secure aggregation needs at least 3 sites, got 2"));
    expect(() => neighbourhoodParameters(10, { dropout: 1 })).toThrow();
  });
});

describe("binomial tails", () => {
  it("match exact values", () => {
    // Execute / Assert: P[Bin(4, 0.5) < 2] = 5/16; P[Bin(10, 0.3) ≥ 8] = 0.0015903864.
    expect(binomialBelow(4, 2, 0.5)).toBeCloseTo(5 / 16, 12);
    expect(binomialAtLeast(10, 8, 0.3)).toBeCloseTo(0.0015903864, 10);
    expect(binomialAtLeast(10, 0, 0)).toBe(1);
  });
});
