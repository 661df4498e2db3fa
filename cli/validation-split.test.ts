import { describe, expect, it } from "vitest";
import { holdOutValidation } from "./validation-split.ts";

const columns = ["x", "y"];
const table = (prefix: string, n: number) => ({ columns, rows: Array.from({ length: n }, (_, i) => [`${prefix}${i}`, String(i % 2)]) });
const sites = [
  { name: "A", train: table("a", 40), test: table("ta", 5) },
  { name: "B", train: table("b", 10), test: table("tb", 5) },
  { name: "C", train: table("c", 1), test: table("tc", 5) },
];

describe("holdOutValidation", () => {
  it("moves a share of each site's training rows, at least one from sites with two or more, to the validation set", () => {
    // Execute
    const { sites: kept, validation } = holdOutValidation(sites, 0.1, 3);

    // Assert
    expect(kept.map((s) => s.train.rows.length)).toEqual([36, 9, 1]);
    expect(validation.rows).toHaveLength(5);
    const trained = new Set(kept.flatMap((s) => s.train.rows.map((r) => r[0])));
    expect(validation.rows.every((r) => !trained.has(r[0]))).toBe(true);
    expect(new Set([...trained, ...validation.rows.map((r) => r[0])]).size).toBe(51);
    expect(kept.map((s) => s.test)).toEqual(sites.map((s) => s.test));
  });

  it("draws the same rows for the same seed and others for another", () => {
    // Execute
    const a = holdOutValidation(sites, 0.2, 3).validation.rows;
    const b = holdOutValidation(sites, 0.2, 3).validation.rows;
    const c = holdOutValidation(sites, 0.2, 4).validation.rows;

    // Assert
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it("refuses a share outside (0, 1) and sites with other columns", () => {
    expect(() => holdOutValidation(sites, 1, 1)).toThrow(RangeError);
    expect(() => holdOutValidation([...sites, { name: "D", train: { columns: ["z"], rows: [["1"]] }, test: table("td", 1) }], 0.1, 1)).toThrow("site D has other columns than the first site");
  });
});
