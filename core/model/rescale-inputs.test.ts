import { describe, expect, it } from "vitest";
import { applyPreprocessing } from "../preprocess/transform.ts";
import { seededRandom } from "../random.ts";
import { Preprocessing } from "../schemas/preprocessing.ts";
import { modelLayout } from "./layout.ts";
import { rescaleInputs } from "./rescale-inputs.ts";

const prep = (ageMean: number, ageSd: number, cholMean: number, cholSd: number) =>
  Preprocessing.parse({
    label: { column: "y", positive: ["1"] },
    missingTokens: [""],
    inputs: ["age", "age_missing", "chol", "sex=M"],
    rows: 100,
    positives: 30,
    features: [
      { kind: "numeric", name: "age", column: "age", missing: [], mean: ageMean, sd: ageSd, missingIndicator: true },
      { kind: "numeric", name: "chol", column: "chol", missing: [], mean: cholMean, sd: cholSd, missingIndicator: false },
      { kind: "categorical", name: "sex", column: "sex", missing: [], levels: ["F", "M"], impute: "F" },
    ],
  });

/** The first layer's pre-activations for every row: x · W + b. */
function firstLayer(body: Float32Array, x: Float32Array, rows: number, dim: number, hidden: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < hidden; h++) {
      let z = body[dim * hidden + h]!;
      for (let j = 0; j < dim; j++) z += x[r * dim + j]! * body[j * hidden + h]!;
      out.push(z);
    }
  }
  return out;
}

describe("rescaleInputs", () => {
  it("keeps the first layer's output for every observed row when the statistics are refitted", () => {
    const [before, after] = [prep(55, 10, 215, 40), prep(61, 12, 205, 35)];
    const layout = modelLayout({ kind: "mlp", hidden: [3] }, 4);
    const rng = seededRandom(4);
    const body = Float32Array.from({ length: layout.bodySize }, () => 2 * rng() - 1);
    const table = { columns: ["age", "chol", "sex", "y"], rows: [["40", "180", "M", "1"], ["70", "260", "F", "0"], ["55", "215", "F", "1"]] };
    const [x0, x1] = [applyPreprocessing(table, before), applyPreprocessing(table, after)];
    const moved = rescaleInputs(layout, body, before, after);
    const expected = firstLayer(body, x0.x, 3, 4, 3);
    const actual = firstLayer(moved, x1.x, 3, 4, 3);
    actual.forEach((z, i) => expect(z).toBeCloseTo(expected[i]!, 4));
    // Without the rewrite the same rows would meet another function.
    expect(firstLayer(body, x1.x, 3, 4, 3).some((z, i) => Math.abs(z - expected[i]!) > 0.1)).toBe(true);
    // The layers after the first are untouched.
    expect(Array.from(moved.slice(4 * 3 + 3))).toEqual(Array.from(body.slice(4 * 3 + 3)));
  });

  it("refuses preprocessings that make different inputs", () => {
    const layout = modelLayout({ kind: "logreg" }, 4);
    const other = { ...prep(1, 1, 1, 1), inputs: ["age", "age_missing", "chol", "sex=F"] };
    expect(() => rescaleInputs(layout, new Float32Array(layout.bodySize), prep(1, 1, 1, 1), other)).toThrow(RangeError);
  });
});
