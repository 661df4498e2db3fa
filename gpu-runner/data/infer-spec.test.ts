import { describe, expect, it } from "vitest";
import type { Table } from "../../core/preprocess/table.ts";
import { ColumnProblems, inferFeatureSpec, inferSpec } from "./infer-spec.ts";

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

  it("takes the yes of a yes/no label as positive, whichever is rarer, and lists the negative value", () => {
    // Prepare: "no" is the rarer value; the old rule (the rarer of two) made it positive.
    const t = table(["x", "readmitted"], [["1", "no"], ["2", "yes"], ["3", "yes"], ["4", "NA"], ["5", "no"], ["6", "yes"]]);

    // Execute
    const spec = inferFeatureSpec(t, { label: "readmitted" });

    // Assert
    expect(spec.label).toEqual({ column: "readmitted", positive: ["yes"], negative: ["no"] });
  });

  it("asks for --positive when neither of two text values says positive by itself", () => {
    // Prepare
    const t = table(["x", "diagnosis"], [["1", "M"], ["2", "B"], ["3", "B"]]);

    // Execute
    const infer = () => inferFeatureSpec(t, { label: "diagnosis" });
    const given = inferFeatureSpec(t, { label: "diagnosis", positive: "M" });

    // Assert
    expect(infer).toThrow('label "diagnosis" has the values "B" (2 rows), "M" (1 row), neither of which says "positive" by itself: pass --positive VALUE to say which means the outcome');
    expect(given.label).toEqual({ column: "diagnosis", positive: ["M"], negative: ["B"] });
  });

  it("merges values that differ only by case or spaces, naming the value by its most frequent spelling", () => {
    // Prepare
    const t = table(["x", "outcome"], [["1", "yes"], ["2", "YES"], ["3", " yes "], ["4", "no"], ["5", "No"], ["6", "no"]]);

    // Execute
    const spec = inferFeatureSpec(t, { label: "outcome" });

    // Assert
    expect(spec.label).toEqual({ column: "outcome", positive: ["yes"], negative: ["no"] });
  });

  it("reads a 0/1/2… label as positive above 0 and says so; refuses numbers without a 0", () => {
    // Prepare
    const graded = table(["x", "num"], [["1", "0"], ["2", "1"], ["3", "3"], ["4", "0"]]);
    const coded = table(["x", "sick"], [["1", "1"], ["2", "2"], ["3", "2"]]);

    // Execute
    const inferred = inferSpec(graded, { label: "num" });
    const refused = () => inferSpec(coded, { label: "sick" });

    const binary = inferSpec(table(["x", "died"], [["1", "0"], ["2", "1"], ["3", "1.0"]]), { label: "died" });

    // Assert
    expect(binary.spec.label).toEqual({ column: "died", positive: ["1"], negative: ["0"] });
    expect(inferred.spec.label).toEqual({ column: "num", positiveAbove: 0 });
    expect(inferred.notes).toContain("label num takes the values 0, 1, 3: positive = num > 0 (pass --positive VALUE for one value only)");
    expect(refused).toThrow('label "sick" holds numbers ("2" (2 rows), "1" (1 row)) that are not a 0/1 or 0/1/2… coding: pass --positive VALUE');
  });

  it("takes the value given as positive, every other value negative, and says so", () => {
    // Prepare
    const t = table(["x", "status"], [["1", "alive"], ["2", "dead"], ["3", "transferred"]]);

    // Execute
    const inferred = inferSpec(t, { label: "status", positive: "dead" });

    // Assert
    expect(inferred.spec.label).toEqual({ column: "status", positive: ["dead"] });
    expect(inferred.notes).toEqual(['label status has 3 values ("alive" (1 row), "dead" (1 row), "transferred" (1 row)): "dead" is positive, every other value negative']);
  });

  it("asks for --positive when the label has more than two text values", () => {
    // Prepare
    const t = table(["x", "status"], [["1", "alive"], ["2", "dead"], ["3", "transferred"], ["4", "alive"]]);

    // Execute
    const infer = () => inferFeatureSpec(t, { label: "status" });

    // Assert
    expect(infer).toThrow('label "status" has 3 values ("alive" (2 rows), "dead" (1 row), "transferred" (1 row)): pass --positive VALUE to say which value means the outcome');
  });

  it("reports every column it cannot use in one error, each with its reason and remedy", () => {
    // Prepare: a text identifier, a numeric identifier, stray text in a numeric column, mixed units, free text.
    const rows = Array.from({ length: 60 }, (_, i) => [`P-${1000 + i}`, String(500 + i), i % 10 === 0 ? "<5" : String(i), i % 2 ? "5 mmol/L" : "90 mg/dL", `note ${i % 55}`, String(40 + (i % 7)), String(i % 2)]);
    const t = table(["patient_ref", "mrn", "crp", "chol", "note", "age", "outcome"], rows);

    // Execute
    const infer = () => inferSpec(t, { label: "outcome", unreadable: { chol: "its numbers carry different units (mg/dL, mmol/L)" } });
    const ignored = inferSpec(t, { label: "outcome", ignore: ["patient_ref", "mrn", "chol", "note"], missing: ["<5"] });

    // Assert
    expect(infer).toThrow(ColumnProblems);
    expect(infer).toThrow(
      [
        "5 columns cannot be used as they are:",
        "  patient_ref: every one of its 60 values is different (an identifier, or free text?); pass --ignore patient_ref",
        "  mrn: whole numbers, every one different (an identifier?); pass --ignore mrn",
        '  crp: 6 of 60 values are not numbers ("<5"); if they mean "not recorded", pass --missing <5; otherwise clean them, or pass --ignore crp',
        "  chol: its numbers carry different units (mg/dL, mmol/L); write them in one form (one unit, a decimal point), or pass --ignore chol",
        "  note: 55 different text values, more than the 50 levels a categorical feature may have (free text, or a fine-grained code?); group its values into at most 50 levels, or pass --ignore note",
      ].join("\n"),
    );
    expect(ignored.spec.features.map((f) => [f.name, f.type])).toEqual([["crp", "numeric"], ["age", "numeric"]]);
  });

  it("leaves date columns out with a note and records a column's unit", () => {
    // Prepare
    const t = table(["admitted", "chol", "outcome"], [["2024-01-03", "258", "1"], ["03/02/2024", "199", "0"], ["2024-02-11T08:30", "NA", "0"]]);

    // Execute
    const inferred = inferSpec(t, { label: "outcome", units: { chol: "mg/dL" } });

    // Assert
    expect(inferred.spec.features).toEqual([{ name: "chol", column: "chol", type: "numeric", missing: [], unit: "mg/dL" }]);
    expect(inferred.notes).toEqual(["column admitted holds dates: left out (derive a feature such as an age or a length of stay from it before training, or pass --ignore to silence this)"]);
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
    const run = () => inferFeatureSpec(table, { label: "outcome", positive: "ys" });
    const folded = inferFeatureSpec(table, { label: "outcome", positive: "Yes" });

    // Assert
    expect(run).toThrow('label "outcome" never takes the value "ys" (values: no, yes)');
    expect(folded.label).toEqual({ column: "outcome", positive: ["Yes"], negative: ["no"] });
  });
});
