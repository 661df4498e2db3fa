import { describe, expect, it } from "vitest";
import { labelOf } from "./label.ts";

const tokens = ["", "NA", "?"];

describe("labelOf", () => {
  it.each([
    ["0", 0],
    ["0.0", 0],
    ["-1", 0],
    ["0.5", 1],
    ["1", 1],
    [" 4 ", 1],
    ["?", null],
    ["NA", null],
    ["", null],
    ["  ", null],
    ["sick", null],
  ] as const)("reads %j against positiveAbove 0 as %j", (value, expected) => {
    // Execute
    const label = labelOf(value, { column: "num", positiveAbove: 0 }, tokens);

    // Assert
    expect(label).toBe(expected);
  });

  it.each([
    [["M"], "M", 1],
    [["M"], " M ", 1],
    [["M"], "B", 0],
    [["M"], "NA", null],
    [["1"], "1.0", 1],
    [["1.0"], "1", 1],
    [["1", "2"], "2.00", 1],
    [["1"], "0", 0],
  ] as const)("reads with positive %j the value %j as %j", (positive, value, expected) => {
    // Execute
    const label = labelOf(value, { column: "y", positive: [...positive] }, tokens);

    // Assert
    expect(label).toBe(expected);
  });
});
