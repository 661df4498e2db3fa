import { describe, expect, it } from "vitest";
import { computeSiteStats } from "../../core/preprocess/site-stats.ts";
import { FederationConfig } from "../../core/schemas/federation.ts";
import type { SiteStats } from "../../core/schemas/site-stats.ts";
import { federationConfig, siteTables } from "../../test/support/coordinator.ts";
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

  it("holds noisy statistics to what noise keeps: finite moments, the spec's bins, the declared levels", () => {
    // Prepare
    const spec = { ...FederationConfig.parse(federationConfig()).features };
    const binned = { ...spec, features: spec.features.map((f) => (f.type === "numeric" ? { ...f, range: { min: 0, max: 100 }, bins: 4 } : { ...f, levels: ["F", "M"] })) };
    const age = { kind: "numeric" as const, count: 7, mean: 50, m2: 2, missing: 1, histogram: [1, 2, 3, 0] };
    const noisy = { ...honest(), rows: 5, features: { ...honest().features, age } };

    // Execute and Assert
    expect(statsProblem(noisy)).toBe('feature "age" counts 7 values and 1 missing, not the 5 rows');
    expect(statsProblem(noisy, { noisy: true, spec: binned })).toBeNull();
    expect(statsProblem({ ...noisy, features: { ...noisy.features, age: { ...age, histogram: [1, 2, 3] } } }, { noisy: true, spec: binned })).toBe('feature "age" has a histogram of 3 bins, not the spec\'s 4');
    expect(statsProblem({ ...noisy, features: { ...noisy.features, sex: { kind: "categorical", counts: { F: 2, X: 1 }, missing: 0 } } }, { noisy: true, spec: binned })).toBe('feature "sex" reports levels the spec does not declare: X');
  });

  it("refuses statistics without the histogram a median-imputed feature needs, so that the merge cannot block on them", () => {
    const spec = FederationConfig.parse(federationConfig()).features;
    const median = { ...spec, features: spec.features.map((f) => (f.name === "age" ? { ...f, impute: "median" as const, range: { min: 0, max: 120 } } : f)) };
    expect(statsProblem(honest(), { spec: median })).toBe('feature "age" is imputed with its median but its statistics hold no histogram');
  });

  it("refuses a histogram that does not hold every value of exact statistics", () => {
    const stats = { ...honest(), features: { ...honest().features, age: { kind: "numeric" as const, count: 4, mean: 50, m2: 2, missing: 0, histogram: [1, 2] } } };
    expect(statsProblem(stats)).toBe('feature "age" has 3 values in its histogram, not its 4');
  });

  it("counts missing values towards the rows", () => {
    // Prepare: two of the four ages unknown.
    const stats = { ...honest(), features: { ...honest().features, age: { kind: "numeric" as const, count: 2, mean: 50, m2: 2, missing: 2 } } };
    // Execute and Assert
    expect(statsProblem(stats)).toBeNull();
  });
});
