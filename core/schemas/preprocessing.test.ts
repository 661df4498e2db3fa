import { describe, expect, it } from "vitest";
import { Preprocessing } from "./preprocessing.ts";
import { issuesOf, preprocessing } from "../../test/support/schemas.ts";

describe("Preprocessing", () => {
  it("parses the consortium's preprocessing", () => {
    // Execute and Assert
    expect(Preprocessing.parse(preprocessing())).toEqual(preprocessing());
  });

  it.each([
    ["a zero sd", (p: Preprocessing) => ({ ...p, features: [{ ...p.features[0], sd: 0 }, p.features[1]] }), [["features.0.sd", "Too small: expected number to be >0"]]],
    ["a category without levels", (p: Preprocessing) => ({ ...p, features: [p.features[0], { ...p.features[1], levels: [] }] }), [["features.1.levels", "Too small: expected array to have >=1 items"]]],
    ["no inputs", (p: Preprocessing) => ({ ...p, inputs: [] }), [["inputs", "Too small: expected array to have >=1 items"]]],
    ["a label with neither rule", (p: Preprocessing) => ({ ...p, label: { column: "num" } }), [["label", "label needs exactly one of positive, positiveAbove or classes"]]],
  ])("rejects %s", (_, patch, expected) => {
    // Execute and Assert
    expect(issuesOf(Preprocessing, patch(preprocessing()))).toEqual(expected);
  });
});
