import { describe, expect, it } from "vitest";
import { FeatureSpec, LabelDef } from "../schemas/feature-spec.ts";
import { classCount, labelLines, labelOf, positiveRule, summariseLabels } from "./label.ts";

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

describe("summariseLabels and labelLines", () => {
  it("counts positives, negatives, unlabelled rows and merged spellings, and says each", () => {
    // Prepare
    const values = ["yes", "YES", " yes", "no", "No", "", "NA", "maybe"];

    // Execute
    const summary = summariseLabels(values, { column: "outcome", positive: ["yes"], negative: ["no"] }, tokens);

    // Assert
    expect(summary).toMatchObject({ positives: 3, negatives: 2, unlabelled: 2, unrecognised: 1, unrecognisedValues: ["maybe"] });
    expect(labelLines(summary)).toEqual([
      "label outcome: positive = yes: 3 of 5 labelled rows (60.0 %)",
      'label outcome: "YES" read as "yes" (1 row; values differing only in case or spaces are one value)',
      'label outcome: "No" read as "no" (1 row; values differing only in case or spaces are one value)',
      "label outcome: 2 of 8 rows have no label (blank or a missing token) and are left out",
      'label outcome: 1 row has a label that is neither positive nor negative ("maybe") and are left out',
    ]);
  });

  it("warns when a site's rows are all of one class under the consortium's rule: a label coded otherwise", () => {
    // Prepare: the consortium says 0/1, this site writes 1/2.
    const summary = summariseLabels(["1", "2", "2", "1"], { column: "sick", positive: ["1"], negative: ["0"] }, tokens);

    // Execute
    const lines = labelLines(summary);

    // Assert
    expect(summary).toMatchObject({ positives: 2, negatives: 0, unrecognised: 2 });
    expect(lines).toContain("label sick: every one of the 2 labelled rows is positive: is the label coded as the consortium's rule says (positive = 1)?");
    expect(lines).toContain('label sick: 2 rows have a label that is neither positive nor negative ("2") and are left out');
  });
});


describe("a K-class label", () => {
  const def = { column: "finding", classes: ["normal", "benign", "Malignant", "2"] };

  it.each([
    ["normal", 0],
    [" BENIGN ", 1],
    ["malignant", 2],
    ["2.0", 3],
    ["other", null],
    ["NA", null],
  ] as const)("reads %j as class %j", (value, expected) => {
    expect(labelOf(value, def, tokens)).toBe(expected);
  });

  it("counts the rows of each class, the first class being the reference (negatives), and says so", () => {
    // Execute
    const s = summariseLabels(["normal", "benign", "benign", "malignant", "x", "NA"], def, tokens);

    // Assert
    expect(s.classes).toEqual([{ value: "normal", rows: 1 }, { value: "benign", rows: 2 }, { value: "Malignant", rows: 1 }, { value: "2", rows: 0 }]);
    expect([s.positives, s.negatives, s.unrecognised, s.unlabelled]).toEqual([3, 1, 1, 1]);
    expect(classCount(def)).toBe(4);
    expect(positiveRule(def)).toBe("benign, Malignant, 2");
    expect(labelLines(s)).toEqual([
      "label finding: 4 classes over 4 labelled rows: normal 1, benign 2, Malignant 1, 2 0",
      "label finding: 1 of 6 rows have no label (blank or a missing token) and are left out",
      "label finding: no row of class 2 here",
      'label finding: 1 row has a label that is none of the classes ("x") and are left out',
    ]);
  });

  it("is refused with fewer than 3 classes, classes equal but for case or spelling, or beside positive", () => {
    const issue = (l: object) => LabelDef.safeParse({ column: "c", ...l }).error?.issues[0]?.message;
    expect(issue({ classes: ["a", "b"] })).toBe("classes needs at least 3 values (2 classes are positive and negative)");
    expect(issue({ classes: ["a", "B", "b"] })).toBe("classes must be distinct");
    expect(issue({ classes: ["1", "1.0", "2"] })).toBe("classes must be distinct");
    expect(issue({ classes: ["a", "b", "c"], positive: ["a"] })).toBe("label needs exactly one of positive, positiveAbove or classes");
    expect(issue({ classes: ["a", " ", "c"] })).toBe("a class cannot be blank");
    expect(LabelDef.safeParse({ column: "c", classes: ["a", "b", "c"] }).success).toBe(true);
    // A class spelled as a missing token could never be read.
    const spec = { features: [{ name: "x", column: "x", type: "numeric", missing: [] }], label: { column: "c", classes: ["a", "NA", "c"] } };
    expect(FeatureSpec.safeParse(spec).error?.issues[0]).toMatchObject({ path: ["label", "classes"], message: "a label class cannot be one of the missing tokens" });
  });
});
