import { describe, expect, it } from "vitest";
import { DEFAULT_BINS, EvalCounts } from "./eval-counts.ts";

// With two bins, bin 0 holds scores below 0.5 and bin 1 the rest.
const valid = { n: 10, tp: 3, fp: 1, tn: 4, fn: 2, pos: [2, 3], neg: [4, 1] };
const messages = (input: unknown) => EvalCounts.safeParse(input).error?.issues.map((i) => i.message);

describe("EvalCounts", () => {
  it("defaults to 1000 bins", () => {
    // Execute / Assert
    expect(DEFAULT_BINS).toBe(1000);
  });

  it("accepts consistent counts", () => {
    // Execute
    const result = EvalCounts.safeParse(valid);

    // Assert
    expect(result).toEqual({ success: true, data: valid });
  });

  it("accepts a confusion count that falls inside the odd bin holding 0.5", () => {
    // Prepare: of three bins, the middle one spans [1/3, 2/3), so tp may be 1 or 2.
    const counts = { n: 3, tp: 1, fp: 0, tn: 1, fn: 1, pos: [0, 1, 1], neg: [1, 0, 0] };

    // Execute
    const result = EvalCounts.safeParse(counts);

    // Assert
    expect(result.success).toBe(true);
  });

  it.each([
    [{ ...valid, tp: 4, n: 11 }, ["tp + fn = 6 but pos holds 5", "tp = 4 disagrees with the pos histogram"]],
    [{ ...valid, neg: [5, 1], n: 10 }, ["fp + tn = 5 but neg holds 6"]],
    [{ ...valid, n: 9 }, ["n = 9 but tp + fp + tn + fn = 10"]],
    [{ ...valid, tp: 2, fn: 3 }, ["tp = 2 disagrees with the pos histogram"]],
    [{ ...valid, fp: 0, tn: 5 }, ["fp = 0 disagrees with the neg histogram"]],
    [{ ...valid, pos: [2, 3, 0] }, ["neg has 2 bins but pos has 3"]],
    [{ ...valid, pos: [5], neg: [5] }, ["histogram must have at least 2 bins", "histogram must have at least 2 bins"]],
  ])("rejects inconsistent counts (%#)", (input, expected) => {
    // Execute / Assert
    expect(messages(input)).toEqual(expected);
  });

  it("rejects more than 100000 bins", () => {
    // Prepare
    const zeros = new Array<number>(100_001).fill(0);

    // Execute / Assert
    expect(messages({ n: 0, tp: 0, fp: 0, tn: 0, fn: 0, pos: zeros, neg: zeros })).toEqual([
      "histogram must have at most 100000 bins",
      "histogram must have at most 100000 bins",
    ]);
  });

  it("rejects negative and fractional counts", () => {
    // Execute
    const result = EvalCounts.safeParse({ ...valid, pos: [2.5, 3], tn: -4 });

    // Assert
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toEqual(expect.arrayContaining([["tn"], ["pos", 0]]));
  });
});
