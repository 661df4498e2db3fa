import { describe, expect, it } from "vitest";
import { canonicalLevel, columnIndex, isMissing, numericValue } from "./table.ts";

describe("canonicalLevel", () => {
  it.each([
    ["1.0", "1"],
    [" 2.50 ", "2.5"],
    ["-0", "0"],
    ["1e3", "1000"],
    ["north", "north"],
    [" a b ", "a b"],
    ["", ""],
  ])("writes %j as %j", (value, expected) => {
    // Execute and Assert
    expect(canonicalLevel(value)).toBe(expected);
  });
});

describe("isMissing", () => {
  it.each([
    ["NA", [], true],
    [" ? ", [], true],
    ["", [], true],
    ["0", [], false],
    ["0", ["0"], true],
    ["0.0", ["0"], true],
    ["0", ["0.0"], true],
    ["-9.0", ["-9"], true],
    ["10", ["0"], false],
    ["unknown", ["Unknown"], false],
  ] as const)("says %j with the feature's own missing values %j is %j", (value, extra, expected) => {
    // Execute and Assert
    expect(isMissing(value, ["", "NA", "?"], extra)).toBe(expected);
  });
});

describe("numericValue", () => {
  it.each([
    [" 3.5 ", 3.5],
    ["-2", -2],
    ["0", 0],
  ])("reads %j as %j", (value, expected) => {
    // Execute and Assert
    expect(numericValue(value)).toBe(expected);
  });

  it.each(["", "   ", "abc"])("reads %j as NaN, not 0", (value) => {
    // Execute and Assert
    expect(numericValue(value)).toBeNaN();
  });
});

describe("columnIndex", () => {
  it("finds a column by name", () => {
    // Execute and Assert
    expect(columnIndex({ columns: ["a", "b", "c"], rows: [] }, "c")).toBe(2);
  });

  it("names the missing column and the ones the table has", () => {
    // Execute
    const run = () => columnIndex({ columns: ["age", "sex"], rows: [] }, "chol");

    // Assert
    expect(run).toThrow('column "chol" not found (have: age, sex)');
  });
});
