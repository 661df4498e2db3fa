import { describe, expect, it } from "vitest";
import { computeSiteStats } from "../../core/preprocess/site-stats.ts";
import { FederationConfig } from "../../core/schemas/federation.ts";
import type { SiteStats } from "../../core/schemas/site-stats.ts";
import { federationConfig, siteTables } from "../testing.ts";
import { statsProblem } from "./check-site-stats.ts";

const honest = (): SiteStats => computeSiteStats(siteTables[2]!, FederationConfig.parse(federationConfig()).features);

describe("statsProblem", () => {
  it("finds nothing wrong with what a site's loader computes", () => {
    // Execute and Assert
    expect(statsProblem(honest())).toBeNull();
  });

  it.each([
    ["an infinite mean", { kind: "numeric", count: 4, mean: Number.POSITIVE_INFINITY, m2: 1, missing: 0 }],
    ["a NaN m2", { kind: "numeric", count: 4, mean: 50, m2: Number.NaN, missing: 0 }],
  ] as const)("names a numeric feature with %s (the use case may be called without the HTTP schema)", (_, age) => {
    // Prepare
    const stats = { ...honest(), features: { ...honest().features, age } };
    // Execute and Assert
    expect(statsProblem(stats)).toBe('feature "age" has a mean or m2 that is not finite');
  });

  it("refuses more zeros than values", () => {
    const stats = { ...honest(), features: { ...honest().features, age: { kind: "numeric" as const, count: 4, mean: 50, m2: 2, missing: 0, zeros: 5 } } };
    expect(statsProblem(stats)).toBe('feature "age" counts 5 zeros among 4 values');
  });

  it("counts missing values towards the rows", () => {
    // Prepare: two of the four ages unknown.
    const stats = { ...honest(), features: { ...honest().features, age: { kind: "numeric" as const, count: 2, mean: 50, m2: 2, missing: 2 } } };
    // Execute and Assert
    expect(statsProblem(stats)).toBeNull();
  });
});
