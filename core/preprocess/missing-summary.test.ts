import { describe, expect, it } from "vitest";
import type { FeatureSpec } from "../schemas/feature-spec.ts";
import { missingLines, missingShares } from "./missing-summary.ts";
import { computeSiteStats } from "./site-stats.ts";

const spec: FeatureSpec = {
  features: [
    { name: "age", column: "age", type: "numeric", missing: [] },
    { name: "chol", column: "chol", type: "numeric", missing: [], impute: "median", range: { min: 0, max: 600 } },
    { name: "ward", column: "ward", type: "categorical", missing: [] },
  ],
  label: { column: "y", positiveAbove: 0 },
  missingTokens: ["", "NA", "?"],
};

describe("missingShares and missingLines", () => {
  it("lists each feature's missing share among the labelled rows with what replaces it, most missing first, and warns at 30 %", () => {
    // Prepare: 10 labelled rows; chol missing in 4, ward in 1; an unlabelled row does not count.
    const rows = Array.from({ length: 10 }, (_, i) => [String(40 + i), i < 4 ? "NA" : "200", i === 9 ? "" : "A", String(i % 2)]);
    const table = { columns: ["age", "chol", "ward", "y"], rows: [...rows, ["50", "", "", ""]] };

    // Execute
    const shares = missingShares(computeSiteStats(table, spec), spec);

    // Assert
    expect(shares).toEqual([
      { feature: "chol", missing: 4, rows: 10, imputed: "median" },
      { feature: "ward", missing: 1, rows: 10, imputed: "most frequent level" },
    ]);
    expect(missingLines(shares)).toEqual([
      "missing values, imputed with the consortium's statistics: chol 40.0 % (median), ward 10.0 % (most frequent level)",
      "chol is missing in 4 of 10 rows (40.0 %); every one of them gets the consortium's median",
    ]);
    expect(missingLines([])).toEqual(["no missing values in the features"]);
  });
});
