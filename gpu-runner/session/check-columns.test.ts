import { describe, expect, it } from "vitest";
import { ConsiliumError } from "../../core/errors.ts";
import type { FeatureSpec } from "../../core/schemas/feature-spec.ts";
import { absentLine, assumedUnitsLine, checkColumns, summariseSiteData } from "./check-columns.ts";

const spec: FeatureSpec = {
  features: [
    { name: "age", column: "age", type: "numeric", missing: [] },
    { name: "chol", column: "chol", type: "numeric", missing: ["0"], unit: "mg/dL" },
    { name: "thalach", column: "thalach", type: "numeric", missing: [] },
  ],
  label: { column: "num", positiveAbove: 0 },
  missingTokens: ["", "NA", "?"],
};

const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (err) {
    return err instanceof ConsiliumError ? { code: err.code, status: err.status } : err;
  }
  return null;
};

describe("checkColumns", () => {
  it("names the consortium's columns a site lacks, and its own the consortium does not use, with the --map remedy", () => {
    // Prepare
    const table = { columns: ["age", "cholesterol", "max_hr", "num"], rows: [["61", "250", "150", "1"]] };

    // Execute
    const check = checkColumns(table, spec);

    // Assert
    expect(check.absent.map((f) => f.name)).toEqual(["chol", "thalach"]);
    expect(check.unused).toEqual(["cholesterol", "max_hr"]);
    expect(absentLine(check)).toBe(
      "the consortium's columns chol, thalach are not in this site's rows: this site provides no value of them and imputes them; this site's columns the consortium does not use: cholesterol, max_hr: if one holds the same measurement, map it, e.g. --map cholesterol=chol",
    );
    expect(absentLine(checkColumns({ columns: ["age", "chol", "thalach", "num"], rows: [] }, spec))).toBeNull();
  });

  it("refuses a site without the label column, and a column in another unit than the consortium's", () => {
    // Execute
    const noLabel = () => checkColumns({ columns: ["age", "chol", "diagnosis"], rows: [] }, spec);
    const otherUnit = () => checkColumns({ columns: ["age", "chol", "thalach", "num"], rows: [] }, spec, { chol: "mmol/L" });
    const sameUnit = checkColumns({ columns: ["age", "chol", "thalach", "num"], rows: [] }, spec, { chol: "mg/dL" });

    // Assert
    expect(noLabel).toThrow('this site\'s rows have no column "num", the consortium\'s label (columns here: age, chol, diagnosis); if one of yours holds it, map it: --map YOURS=num');
    expect(thrown(noLabel)).toMatchObject({ code: "LABEL_COLUMN_MISSING", status: 422 });
    expect(thrown(otherUnit)).toMatchObject({ code: "UNIT_MISMATCH", status: 422 });
    expect(otherUnit).toThrow("column chol is in mmol/L here, the consortium's chol in mg/dL: convert it before joining");
    expect(sameUnit.absent).toEqual([]);
    expect(sameUnit.unitWarnings).toEqual([]);
  });

  it("says where units cannot be compared: plain numbers against a declared unit, a unit the spec does not declare", () => {
    // Execute
    const plain = checkColumns({ columns: ["age", "chol", "thalach", "num"], rows: [] }, spec);
    const undeclared = checkColumns({ columns: ["age", "chol", "thalach", "num"], rows: [] }, spec, { thalach: "bpm" });

    // Assert
    expect(plain.unitWarnings).toEqual([]);
    expect(assumedUnitsLine(plain.assumedUnits)).toBe("plain numbers taken to be in the consortium's units: chol in mg/dL");
    expect(undeclared.unitWarnings).toEqual(["column thalach is in bpm here, and the consortium declares no unit for thalach: every site must measure it in bpm (a data dictionary can declare it)"]);
  });
});

describe("summariseSiteData", () => {
  it("counts the label rule's outcome and each feature's missing share over the training rows", () => {
    // Prepare: chol "0" is the spec's own missing value; one row has no label.
    const table = {
      columns: ["age", "chol", "thalach", "num"],
      rows: [
        ["61", "0", "150", "2"],
        ["50", "230", "", "0"],
        ["70", "", "140", "1"],
        ["44", "210", "160", ""],
      ],
    };

    // Execute
    const summary = summariseSiteData(table, spec, checkColumns(table, spec));

    // Assert
    expect(summary.label).toMatchObject({ column: "num", positive: "> 0", rows: 4, positives: 2, negatives: 1, unlabelled: 1 });
    expect(summary.missing).toEqual([
      { feature: "chol", missing: 2, rows: 3, imputed: "mean" },
      { feature: "thalach", missing: 1, rows: 3, imputed: "mean" },
    ]);
  });
});
