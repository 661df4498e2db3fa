import { describe, expect, it } from "vitest";
import type { Table } from "../../core/preprocess/table.ts";
import { inferFeatureSpec } from "./infer-spec.ts";

const table = (columns: string[], rows: string[][]): Table => ({ columns, rows });

describe("inferFeatureSpec", () => {
  it("makes columns whose present values are all numbers numeric, and the others categorical", () => {
    // Prepare: missing cells ("", NA, ?) do not decide a column's type; an all-missing column is dropped.
    const t = table(
      ["age", "ward", "code", "unused", "outcome"],
      [
        ["61", "A", "1", "", "0"],
        ["NA", "B", "2", "NA", "1"],
        [" 70.5 ", "?", "x", "?", "2"],
        ["", "A", "3", "", "0"],
      ],
    );

    // Execute
    const spec = inferFeatureSpec(t, { label: "outcome" });

    // Assert
    expect(spec).toEqual({
      features: [
        { name: "age", column: "age", type: "numeric", missing: [] },
        { name: "ward", column: "ward", type: "categorical", missing: [] },
        { name: "code", column: "code", type: "categorical", missing: [] },
      ],
      label: { column: "outcome", positiveAbove: 0 },
      missingTokens: ["", "NA", "?"],
    });
  });

  it("takes the rarer of two text labels as positive", () => {
    // Prepare
    const t = table(["x", "readmitted"], [["1", "no"], ["2", "yes"], ["3", "no"], ["4", "NA"], ["5", "no"], ["6", "yes"]]);

    // Execute
    const spec = inferFeatureSpec(t, { label: "readmitted" });

    // Assert
    expect(spec.label).toEqual({ column: "readmitted", positive: ["yes"] });
  });

  it("takes the value given as positive, whatever else the label column holds", () => {
    // Prepare
    const t = table(["x", "status"], [["1", "alive"], ["2", "dead"], ["3", "transferred"]]);

    // Execute
    const spec = inferFeatureSpec(t, { label: "status", positive: "dead" });

    // Assert
    expect(spec.label).toEqual({ column: "status", positive: ["dead"] });
  });

  it("asks for --positive when the label has more than two text values", () => {
    // Prepare
    const t = table(["x", "status"], [["1", "alive"], ["2", "dead"], ["3", "transferred"], ["4", "alive"]]);

    // Execute
    const infer = () => inferFeatureSpec(t, { label: "status" });

    // Assert
    expect(infer).toThrow('label "status" has 3 values (alive, dead, transferred…): pass --positive VALUE');
  });

  it("asks for --ignore when a text column looks like an identifier", () => {
    // Prepare
    const t = table(["patient_id", "age", "outcome"], Array.from({ length: 60 }, (_, i) => [`P-${1000 + i}`, String(40 + i), String(i % 2)]));

    // Execute
    const infer = () => inferFeatureSpec(t, { label: "outcome" });
    const ignored = inferFeatureSpec(t, { label: "outcome", ignore: ["patient_id"] });

    // Assert
    expect(infer).toThrow('column "patient_id" has more than 50 distinct text values (an identifier?): pass --ignore patient_id');
    expect(ignored.features.map((f) => f.name)).toEqual(["age"]);
  });

  it("names a label or ignored column that the file does not have", () => {
    // Prepare
    const t = table(["age", "outcome"], [["61", "1"]]);

    // Execute
    const badLabel = () => inferFeatureSpec(t, { label: "died" });
    const badIgnore = () => inferFeatureSpec(t, { label: "outcome", ignore: ["mrn"] });

    // Assert
    expect(badLabel).toThrow('column "died" not found (have: age, outcome)');
    expect(badIgnore).toThrow('column "mrn" not found (have: age, outcome)');
  });

  it("refuses a table with nothing but the label and ignored columns", () => {
    // Prepare
    const t = table(["id", "outcome"], [["1", "1"], ["2", "0"]]);

    // Execute
    const infer = () => inferFeatureSpec(t, { label: "outcome", ignore: ["id"] });

    // Assert
    expect(infer).toThrow("no usable feature columns");
  });
});

describe("inferFeatureSpec with --positive", () => {
  it("refuses a positive value the label column never takes", () => {
    // Prepare
    const table = { columns: ["x", "outcome"], rows: [["1", "yes"], ["2", "no"], ["3", "NA"]] };

    // Execute
    const run = () => inferFeatureSpec(table, { label: "outcome", positive: "Yes" });

    // Assert
    expect(run).toThrow('label "outcome" never takes the value "Yes" (values: yes, no)');
  });
});
