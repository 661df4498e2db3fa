import { describe, expect, it } from "vitest";
import type { Preprocessing } from "../schemas/preprocessing.ts";
import { applyPreprocessing } from "./transform.ts";

const prep: Preprocessing = {
  features: [
    { kind: "numeric", name: "age", column: "age", missing: [], mean: 60, sd: 10, missingIndicator: true },
    { kind: "numeric", name: "chol", column: "chol", missing: ["0"], mean: 200, sd: 40, missingIndicator: false },
    { kind: "categorical", name: "cp", column: "cp", missing: [], levels: ["1", "2", "3"], impute: "2" },
  ],
  label: { column: "num", positiveAbove: 0 },
  missingTokens: ["", "NA", "?"],
  inputs: ["age", "age:missing", "chol", "cp=2", "cp=3"],
  rows: 100,
  positives: 40,
};

const columns = ["num", "cp", "chol", "age"];

describe("applyPreprocessing", () => {
  it("z-scores numbers, imputes the mean with a flag, one-hots categories against the first level", () => {
    // Prepare (columns in another order than the features)
    const table = {
      columns,
      rows: [
        ["1", "2.0", "240", "75"],
        ["0", "3", "0", "NA"],
        ["3", "?", "160", "50"],
        ["0", "1", "", ""],
      ],
    };

    // Execute
    const data = applyPreprocessing(table, prep);

    // Assert
    expect([data.rows, data.dim]).toEqual([4, 5]);
    expect(Array.from(data.y)).toEqual([1, 0, 1, 0]);
    expect(Array.from(data.x)).toEqual([
      ...[1.5, 0, 1, 1, 0],
      ...[0, 1, 0, 0, 1],
      ...[-1, 0, -1, 1, 0],
      ...[0, 1, 0, 0, 0],
    ]);
  });

  it("encodes a category the consortium never saw as the reference level", () => {
    // Prepare
    const table = { columns, rows: [["1", "9", "200", "60"], ["1", "1", "200", "60"], ["1", "1.0", "200", "60"]] };

    // Execute
    const data = applyPreprocessing(table, prep);

    // Assert
    expect(Array.from(data.x.subarray(0, 5))).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(data.x.subarray(5, 10))).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(data.x.subarray(10, 15))).toEqual([0, 0, 0, 0, 0]);
  });

  it("drops rows without a label", () => {
    // Prepare
    const table = { columns, rows: [["?", "2", "200", "70"], ["2", "2", "200", "80"], ["", "2", "200", "70"], ["NA", "2", "200", "70"], ["abc", "2", "200", "70"]] };

    // Execute
    const data = applyPreprocessing(table, prep);

    // Assert
    expect([data.rows, Array.from(data.y)]).toEqual([1, [1]]);
    expect(Array.from(data.x)).toEqual([2, 0, 0, 1, 0]);
  });

  it("labels by listed values, \"1\" matching a listed \"1.0\"", () => {
    // Prepare
    const listed = { ...prep, label: { column: "num", positive: ["1.0", "2"] } };
    const table = { columns, rows: ["1", "2.0", "0", "3", "?"].map((num) => [num, "1", "200", "60"]) };

    // Execute
    const data = applyPreprocessing(table, listed);

    // Assert
    expect(Array.from(data.y)).toEqual([1, 1, 0, 0]);
  });

  it("treats a blank numeric cell as missing even when \"\" is not a missing token", () => {
    // Prepare
    const noBlank = { ...prep, missingTokens: ["NA"] };
    const table = { columns, rows: [["1", "1", "200", " "]] };

    // Execute
    const data = applyPreprocessing(table, noBlank);

    // Assert
    expect(Array.from(data.x)).toEqual([0, 1, 0, 0, 0]);
  });

  it("returns an empty dataset for a table without rows", () => {
    // Execute
    const data = applyPreprocessing({ columns, rows: [] }, prep);

    // Assert
    expect([data.rows, data.dim, data.x.length, data.y.length]).toEqual([0, 5, 0, 0]);
  });

  it("imputes every row of a feature whose column the site lacks", () => {
    // Execute: no chol column; chol has no missing flag, so it is its mean (0 after scaling).
    const data = applyPreprocessing({ columns: ["num", "cp", "age"], rows: [["1", "3", "70"]] }, prep);

    // Assert
    expect(Array.from(data.x)).toEqual([1, 0, 0, 0, 1]);
  });

  it("imputes a missing number with the consortium's median when one is given", () => {
    // Prepare: median 180 of a feature with mean 200 and sd 40 → (180 − 200) / 40 = −0.5.
    const withMedian: Preprocessing = { ...prep, features: prep.features.map((f) => (f.kind === "numeric" && f.name === "chol" ? { ...f, impute: 180, missingIndicator: true } : f)), inputs: ["age", "age:missing", "chol", "chol:missing", "cp=2", "cp=3"] };

    // Execute
    const data = applyPreprocessing({ columns, rows: [["1", "2", "0", "60"], ["0", "2", "240", "60"]] }, withMedian);

    // Assert
    expect(Array.from(data.x)).toEqual([0, 0, -0.5, 1, 1, 0, 0, 0, 1, 0, 1, 0]);
  });

  it("names the label's missing column", () => {
    // Execute
    const run = () => applyPreprocessing({ columns: ["cp", "chol", "age"], rows: [] }, prep);

    // Assert
    expect(run).toThrow('column "num" not found (have: cp, chol, age)');
  });
});
