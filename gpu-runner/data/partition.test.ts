import { describe, expect, it } from "vitest";
import { seededRandom } from "../../core/random.ts";
import type { Table } from "../../core/preprocess/table.ts";
import { gamma, parseSplit, partition, subset, trainTestSplit } from "./partition.ts";

/** `rows` rows whose label column `y` is "1" for a share `positives` of them, and a `ward` column. */
function labelled(rows: number, positives: number): Table {
  return {
    columns: ["id", "ward", "y"],
    rows: Array.from({ length: rows }, (_, i) => [String(i), ["north", "south", "east"][i % 3] ?? "", i < rows * positives ? "1" : "0"]),
  };
}
const labelOf = (row: readonly string[]) => row[2] ?? "";
const sorted = (groups: number[][]) => groups.flat().sort((a, b) => a - b);
const range = (n: number) => [...Array(n).keys()];

/** Mean over sites of |site's positive share − overall positive share|. */
function labelSkew(table: Table, groups: number[][]): number {
  const share = (idx: number[]) => idx.filter((i) => labelOf(table.rows[i] ?? []) === "1").length / idx.length;
  const overall = share(range(table.rows.length));
  return groups.reduce((s, g) => s + Math.abs(share(g) - overall), 0) / groups.length;
}

describe("parseSplit", () => {
  it("reads iid, dirichlet:ALPHA and column:NAME", () => {
    // Execute
    const specs = ["iid", "dirichlet:0.5", "dirichlet:10", "column:hospital"].map(parseSplit);

    // Assert
    expect(specs).toEqual([{ kind: "iid" }, { kind: "dirichlet", alpha: 0.5 }, { kind: "dirichlet", alpha: 10 }, { kind: "column", column: "hospital" }]);
  });

  it.each(["dirichlet:0", "dirichlet:", "dirichlet:-1", "column:", "IID", "random"])("refuses %j", (text) => {
    // Execute
    const parse = () => parseSplit(text);

    // Assert
    expect(parse).toThrow(`unknown split "${text}" (expected iid, dirichlet:ALPHA or column:NAME)`);
  });
});

describe("partition", () => {
  it("iid: uses every row once, in sites whose sizes differ by at most one", () => {
    // Prepare
    const table = labelled(103, 0.3);

    // Execute
    const groups = partition(table, { kind: "iid" }, 4, labelOf, seededRandom(1));

    // Assert
    expect(groups).toHaveLength(4);
    expect(sorted(groups)).toEqual(range(103));
    const sizes = groups.map((g) => g.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it("dirichlet: uses every row once, gives every site at least 4 rows and depends only on the seed", () => {
    // Prepare
    const table = labelled(60, 0.2);
    const spec = { kind: "dirichlet", alpha: 0.1 } as const;

    // Execute
    const groups = partition(table, spec, 6, labelOf, seededRandom(3));
    const again = partition(table, spec, 6, labelOf, seededRandom(3));
    const otherSeed = partition(table, spec, 6, labelOf, seededRandom(4));

    // Assert
    expect(sorted(groups)).toEqual(range(60));
    expect(Math.min(...groups.map((g) => g.length))).toBeGreaterThanOrEqual(4);
    expect(again).toEqual(groups);
    expect(otherSeed).not.toEqual(groups);
  });

  it("dirichlet: skews labels across sites far more with alpha 0.1 than with alpha 100", () => {
    // Prepare
    const table = labelled(400, 0.4);
    const seeds = [1, 2, 3, 4, 5];

    // Execute
    const skew = (alpha: number) => seeds.reduce((s, seed) => s + labelSkew(table, partition(table, { kind: "dirichlet", alpha }, 5, labelOf, seededRandom(seed))), 0) / seeds.length;
    const [skewed, even] = [skew(0.1), skew(100)];

    // Assert
    expect(even).toBeLessThan(0.05);
    expect(skewed).toBeGreaterThan(0.2);
  });

  it("refuses more sites than the rows can fill", () => {
    // Prepare
    const table = labelled(12, 0.5);

    // Execute
    const iid = () => partition(table, { kind: "iid" }, 7, labelOf, seededRandom(1));
    const dirichlet = () => partition(table, { kind: "dirichlet", alpha: 1 }, 4, labelOf, seededRandom(1));

    // Assert
    expect(iid).toThrow("cannot spread 12 rows over 7 sites");
    expect(dirichlet).toThrow("cannot spread 12 rows over 4 sites with a Dirichlet split (it needs 4 rows a site)");
    expect(partition(table, { kind: "dirichlet", alpha: 1 }, 3, labelOf, seededRandom(1)).map((g) => g.length)).toEqual([4, 4, 4]);
  });

  it("column: one site per value of the column, in sorted order, whatever the number of sites asked", () => {
    // Prepare
    const table = labelled(10, 0.5);

    // Execute
    const groups = partition(table, { kind: "column", column: "ward" }, 8, labelOf, seededRandom(1));

    // Assert
    expect(groups).toEqual([[2, 5, 8], [0, 3, 6, 9], [1, 4, 7]]);
    expect(groups.map((g) => subset(table, g).rows.map((r) => r[1]))).toEqual([["east", "east", "east"], ["north", "north", "north", "north"], ["south", "south", "south"]]);
  });

  it("column: names the missing column", () => {
    // Execute
    const split = () => partition(labelled(10, 0.5), { kind: "column", column: "hospital" }, 2, labelOf, seededRandom(1));

    // Assert
    expect(split).toThrow('column "hospital" not found (have: id, ward, y)');
  });
});

describe("trainTestSplit", () => {
  it("holds out the same share of each label, and every row exactly once", () => {
    // Prepare: 30 positives and 70 negatives among odd-numbered rows.
    const indices = range(100).map((i) => 2 * i + 1);
    const label = (i: number) => (i < 60 ? "1" : "0");

    // Execute
    const { train, test } = trainTestSplit(indices, label, 0.3, seededRandom(2));

    // Assert
    expect(test.filter((i) => label(i) === "1")).toHaveLength(9);
    expect(test.filter((i) => label(i) === "0")).toHaveLength(21);
    expect([...train, ...test].sort((a, b) => a - b)).toEqual(indices);
    expect(train).toEqual([...train].sort((a, b) => a - b));
    expect(test).toEqual([...test].sort((a, b) => a - b));
  });

  it("holds out at least one row of a label with two or more, and none of a label with one", () => {
    // Prepare
    const label = (i: number) => (i === 0 ? "rare" : i <= 2 ? "few" : "many");

    // Execute
    const { train, test } = trainTestSplit(range(12), label, 0.1, seededRandom(1));

    // Assert
    expect(test.map(label).sort()).toEqual(["few", "many"]);
    expect(train).toContain(0);
  });
});

describe("gamma", () => {
  it.each([0.1, 1, 5])("has mean alpha for alpha %d", (alpha) => {
    // Prepare
    const rng = seededRandom(11);
    const draws = 20_000;

    // Execute
    let sum = 0;
    for (let i = 0; i < draws; i++) sum += gamma(alpha, rng);

    // Assert
    expect(sum / draws).toBeGreaterThan(alpha * 0.95);
    expect(sum / draws).toBeLessThan(alpha * 1.05);
  });
});
