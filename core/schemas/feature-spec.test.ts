import { describe, expect, it } from "vitest";
import { FeatureSpec, LabelDef } from "./feature-spec.ts";
import { featureSpec, issuesOf } from "../../test/support/schemas.ts";

describe("FeatureSpec", () => {
  it("parses a spec and fills in each feature's missing values and the missing tokens", () => {
    // Prepare
    const input = { features: [{ name: "age", column: "AGE_YRS", type: "numeric" }], label: { column: "dx", positive: ["M"] } };

    // Execute
    const spec = FeatureSpec.parse(input);

    // Assert
    expect(spec).toEqual({
      features: [{ name: "age", column: "AGE_YRS", type: "numeric", missing: [] }],
      label: { column: "dx", positive: ["M"] },
      missingTokens: ["", "NA", "?"],
    });
  });

  it("keeps a spec that is already complete as it is", () => {
    // Execute and Assert
    expect(FeatureSpec.parse(featureSpec())).toEqual(featureSpec());
  });

  it.each([
    ["duplicate feature names", { ...featureSpec(), features: [...featureSpec().features, { name: "age", column: "AGE2", type: "numeric" }] }, [["", "feature names must be unique"]]],
    ["no features", { ...featureSpec(), features: [] }, [["features", "Too small: expected array to have >=1 items"]]],
    ["an unknown feature type", { ...featureSpec(), features: [{ name: "x", column: "x", type: "text" }] }, [["features.0.type", 'Invalid option: expected one of "numeric"|"categorical"']]],
    ["an empty column name", { ...featureSpec(), features: [{ name: "x", column: "", type: "numeric" }] }, [["features.0.column", "Too small: expected string to have >=1 characters"]]],
    ["a feature named constructor, which sites could not report", { ...featureSpec(), features: [{ name: "constructor", column: "x", type: "numeric" }] }, [["features.0.name", "a feature cannot be named __proto__, constructor, prototype"]]],
    ["a label with both rules", { ...featureSpec(), label: { column: "num", positive: ["1"], positiveAbove: 0 } }, [["label", "label needs exactly one of positive, positiveAbove or classes"]]],
  ])("rejects %s", (_, value, expected) => {
    // Execute and Assert
    expect(issuesOf(FeatureSpec, value)).toEqual(expected);
  });
});

describe("LabelDef", () => {
  it.each([{ column: "num", positiveAbove: 0 }, { column: "dx", positive: ["M", "m"] }])("parses %j", (value) => {
    // Execute and Assert
    expect(LabelDef.parse(value)).toEqual(value);
  });

  it("rejects a label with neither rule", () => {
    // Execute and Assert
    expect(issuesOf(LabelDef, { column: "num" })).toEqual([["", "label needs exactly one of positive, positiveAbove or classes"]]);
  });
});
