import { describe, expect, it } from "vitest";
import { parseDictionary, specFromDictionary } from "./data-dictionary.ts";
import { ColumnProblems } from "./infer-spec.ts";
import { parseCsv } from "./read-csv.ts";

const dictionary = (text: string) => parseDictionary(parseCsv(text), "dictionary.csv");

describe("parseDictionary", () => {
  it("reads types, units, ranges, levels, missing values and the label rule; lists are |-separated", () => {
    // Execute
    const rows = dictionary(
      [
        "column,type,unit,min,max,levels,missing,impute,positive,description",
        'chol,numeric,mg/dL,80,700,,0,median,,"serum cholesterol, fasting"',
        "cp,Categorical,,,,1|2|3|4,,,,",
        "outcome,label,,,,,NA|unknown,,yes|y,",
      ].join("\n"),
    );

    // Assert
    expect(rows[0]).toMatchObject({ column: "chol", type: "numeric", unit: "mg/dL", min: 80, max: 700, missing: ["0"], impute: "median", description: "serum cholesterol, fasting" });
    expect(rows[1]).toMatchObject({ column: "cp", type: "categorical", levels: ["1", "2", "3", "4"] });
    expect(rows[2]).toMatchObject({ column: "outcome", type: "label", missing: ["NA", "unknown"], positive: "yes|y" });
  });

  it("names every bad row and field at once, and refuses unknown fields", () => {
    // Execute
    const bad = () => dictionary(["column,type,min", "age,number,0", "chol,numeric,low", ",numeric,", "bmi,numeric,", "bmi,numeric,10"].join("\n"));
    const unknown = () => dictionary("column,type,units\nage,numeric,years\n");

    // Assert
    expect(bad).toThrow(
      [
        "dictionary.csv: 4 faults:",
        "  row 2 (age): type: expected one of numeric, categorical, label, date, id, ignore",
        "  row 3 (chol): min: expected a number",
        "  row 4 (?): column: every row needs a column name",
        "  column bmi is described twice",
      ].join("\n"),
    );
    expect(unknown).toThrow("dictionary.csv: unknown dictionary field units (fields: column, type, unit, min, max, levels, missing, impute, positive, negative, description)");
  });
});

describe("specFromDictionary", () => {
  const rows = dictionary(
    [
      "column,type,unit,min,max,levels,missing,impute,positive,negative",
      "age,numeric,years,18,100,,,,,",
      "chol,numeric,mg/dL,80,700,,0,median,,",
      "cp,categorical,,,,1|2|3|4,,,,",
      "admitted,date,,,,,,,,",
      "mrn,id,,,,,,,,",
      "outcome,label,,,,,unknown,,yes,no",
    ].join("\n"),
  );

  it("makes the spec from the header alone, in the header's order", () => {
    // Execute
    const { spec, notes } = specFromDictionary(["mrn", "admitted", "age", "cp", "chol", "outcome"], rows);

    // Assert
    expect(spec).toEqual({
      features: [
        { name: "age", column: "age", type: "numeric", missing: [], unit: "years", range: { min: 18, max: 100 } },
        { name: "cp", column: "cp", type: "categorical", missing: [], levels: ["1", "2", "3", "4"] },
        { name: "chol", column: "chol", type: "numeric", missing: ["0"], unit: "mg/dL", range: { min: 80, max: 700 }, impute: "median" },
      ],
      label: { column: "outcome", positive: ["yes"], negative: ["no"] },
      missingTokens: ["", "NA", "?", "unknown"],
    });
    expect(notes).toEqual(["column mrn (id) is not a feature", "column admitted (date) is not a feature"]);
  });

  it("lists every undescribed and every mistyped column in one error", () => {
    // Execute
    const made = () => specFromDictionary(["age", "cholesterol", "cp", "bmi", "outcome", "admitted", "mrn"], rows);

    // Assert
    expect(made).toThrow(ColumnProblems);
    expect(made).toThrow(
      [
        "3 columns cannot be used as they are:",
        "  cholesterol: not described in the dictionary; add a row for it (type numeric, categorical, date, id or ignore), or pass --ignore cholesterol",
        "  bmi: not described in the dictionary; add a row for it (type numeric, categorical, date, id or ignore), or pass --ignore bmi",
        "  chol: described in the dictionary but not in the file's header (mistyped?); correct the name in the dictionary or in the file",
      ].join("\n"),
    );
  });

  it("takes a threshold label, and --label/--positive over the dictionary's", () => {
    // Prepare
    const graded = dictionary("column,type,positive\nage,numeric,\nnum,label,>0\n");

    // Execute
    const threshold = specFromDictionary(["age", "num"], graded).spec.label;
    const overridden = specFromDictionary(["age", "num"], graded, { label: "num", positive: "2" }).spec.label;
    const none = () => specFromDictionary(["age", "num"], dictionary("column,type\nage,numeric\nnum,label\n"));

    // Assert
    expect(threshold).toEqual({ column: "num", positiveAbove: 0 });
    expect(overridden).toEqual({ column: "num", positive: ["2"] });
    expect(none).toThrow("the dictionary's label row (num) gives no positive value: add one (e.g. yes, or >0) or pass --positive VALUE");
  });
});
