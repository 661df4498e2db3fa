import { describe, expect, it } from "vitest";
import type { FeatureSpec } from "../schemas/feature-spec.ts";
import { SiteStats } from "../schemas/site-stats.ts";
import { computeSiteStats } from "./site-stats.ts";

const numericSpec: FeatureSpec = {
  features: [
    { name: "age", column: "age", type: "numeric", missing: [] },
    { name: "chol", column: "chol", type: "numeric", missing: ["0"] },
  ],
  label: { column: "y", positiveAbove: 0 },
  missingTokens: ["", "NA", "?"],
};

const categoricalSpec: FeatureSpec = {
  features: [{ name: "cp", column: "cp", type: "categorical", missing: [] }],
  label: { column: "y", positive: ["yes"] },
  missingTokens: ["", "NA", "?"],
};

describe("computeSiteStats", () => {
  it("counts \"\", \"NA\", \"?\" and a feature's own missing value (cholesterol 0, also as 0.0) as missing", () => {
    // Prepare: labelled ages 50 and 70 (mean 60, M2 200), cholesterol 200 and 240 (mean 220, M2 800).
    const table = {
      columns: ["age", "chol", "y"],
      rows: [
        ["50", "200", "1"],
        ["", "0", "0"],
        ["NA", "0.0", "1"],
        ["?", "240", "0"],
        [" 70 ", "?", "2"],
      ],
    };

    // Execute
    const stats = computeSiteStats(table, numericSpec);

    // Assert
    expect(stats).toEqual({
      rows: 5,
      positives: 3,
      features: {
        age: { kind: "numeric", count: 2, mean: 60, m2: 200, missing: 3, zeros: 0 },
        chol: { kind: "numeric", count: 2, mean: 220, m2: 800, missing: 3, zeros: 0 },
      },
    });
  });

  it("reads 0 as a value where the feature does not declare it missing", () => {
    // Prepare
    const table = { columns: ["age", "chol", "y"], rows: [["0", "0", "1"], ["4", "100", "0"]] };

    // Execute
    const stats = computeSiteStats(table, numericSpec);

    // Assert
    expect(stats.features.age).toEqual({ kind: "numeric", count: 2, mean: 2, m2: 8, missing: 0, zeros: 1 });
    expect(stats.features.chol).toEqual({ kind: "numeric", count: 1, mean: 100, m2: 0, missing: 1, zeros: 0 });
  });

  it("counts a blank or non-numeric cell as missing, never as 0, even when \"\" is not a missing token", () => {
    // Prepare
    const spec = { ...numericSpec, missingTokens: ["NA"] };
    const table = { columns: ["age", "chol", "y"], rows: [["", "100", "1"], ["  ", "100", "1"], ["n/a", "100", "1"], ["10", "100", "0"]] };

    // Execute
    const stats = computeSiteStats(table, spec);

    // Assert
    expect(stats.features.age).toEqual({ kind: "numeric", count: 1, mean: 10, m2: 0, missing: 3, zeros: 0 });
  });

  it("drops rows without a label from every count", () => {
    // Prepare
    const table = { columns: ["age", "chol", "y"], rows: [["10", "100", "1"], ["1000", "900", "?"], ["30", "300", ""], ["20", "NA", "NA"]] };

    // Execute
    const stats = computeSiteStats(table, numericSpec);

    // Assert
    expect(stats).toEqual({
      rows: 1,
      positives: 1,
      features: {
        age: { kind: "numeric", count: 1, mean: 10, m2: 0, missing: 0, zeros: 0 },
        chol: { kind: "numeric", count: 1, mean: 100, m2: 0, missing: 0, zeros: 0 },
      },
    });
  });

  it("counts \"1.0\", \"1\" and \" 1 \" as one category, and a missing token as missing", () => {
    // Prepare
    const rows = ["1.0", "1", " 1 ", "2", "2.00", "a", "?", ""].map((cp) => [cp, "no"]);

    // Execute
    const stats = computeSiteStats({ columns: ["cp", "y"], rows }, categoricalSpec);

    // Assert
    expect(stats.features.cp).toEqual({ kind: "categorical", counts: { "1": 3, "2": 2, a: 1 }, missing: 2 });
  });

  it("counts levels named like object properties as ordinary levels that survive the wire schema", () => {
    // Prepare
    const rows = ["constructor", "toString", "constructor", "valueOf"].map((cp) => [cp, "yes"]);

    // Execute
    const stats = computeSiteStats({ columns: ["cp", "y"], rows }, categoricalSpec);

    // Assert
    expect(stats.features.cp).toEqual({ kind: "categorical", counts: { constructor: 2, toString: 1, valueOf: 1 }, missing: 0 });
    expect(SiteStats.parse(JSON.parse(JSON.stringify(stats)))).toEqual(stats);
  });

  it("counts a feature whose column the site lacks as missing in every labelled row: the site does not provide it", () => {
    // Prepare
    const table = { columns: ["age", "y"], rows: [["50", "1"], ["60", "0"], ["70", ""]] };

    // Execute
    const stats = computeSiteStats(table, numericSpec);

    // Assert
    expect(stats.features.chol).toEqual({ kind: "numeric", count: 0, mean: 0, m2: 0, missing: 2, zeros: 0 });
    expect(stats.features.age).toMatchObject({ count: 2, mean: 55 });
  });

  it("names the label's missing column", () => {
    // Execute
    const run = () => computeSiteStats({ columns: ["age", "chol"], rows: [["1", "1"]] }, numericSpec);

    // Assert
    expect(run).toThrow('column "y" not found (have: age, chol)');
  });

  it("counts values in the declared range's bins, values outside in the end bins", () => {
    // Prepare: [0, 10) in 5 bins of 2.
    const spec: FeatureSpec = { ...numericSpec, features: [{ name: "age", column: "age", type: "numeric", missing: [], range: { min: 0, max: 10 }, bins: 5 }] };
    const rows = ["-3", "0", "1.99", "2", "5", "9.99", "10", "42", "NA"].map((age) => [age, "1"]);

    // Execute
    const stats = computeSiteStats({ columns: ["age", "y"], rows }, spec);

    // Assert
    expect(stats.features.age).toMatchObject({ count: 8, missing: 1, histogram: [3, 1, 1, 0, 3] });
    expect(SiteStats.parse(JSON.parse(JSON.stringify(stats)))).toEqual(stats);
  });
});
