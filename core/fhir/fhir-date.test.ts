import { describe, expect, it } from "vitest";
import { ageInYears, parseFhirDateTime } from "./fhir-date.ts";

describe("parseFhirDateTime", () => {
  it.each([
    ["2023", Date.UTC(2023, 0, 1)],
    ["2023-06", Date.UTC(2023, 5, 1)],
    ["2023-06-14", Date.UTC(2023, 5, 14)],
    ["2023-06-14T09:30:00Z", Date.UTC(2023, 5, 14, 9, 30)],
    ["2023-06-14T09:30:00.250Z", Date.UTC(2023, 5, 14, 9, 30, 0, 250)],
    ["2023-06-14T09:30:00+02:00", Date.UTC(2023, 5, 14, 7, 30)],
    ["2024-02-29", Date.UTC(2024, 1, 29)],
  ])("reads %s", (value, expected) => {
    expect(parseFhirDateTime(value)).toBe(expected);
  });

  it.each(["", "23-06-14", "2023-13-01", "2023-02-29", "2023-06-31", "2023-06-14T09:30:00", "2023-06-14T25:00:00Z", "yesterday", "2023-06-14 09:30:00Z"])(
    "reads %j as NaN (not a FHIR date, or a time without a zone)",
    (value) => {
      expect(parseFhirDateTime(value)).toBeNaN();
    },
  );
});

describe("ageInYears", () => {
  const index = Date.UTC(2024, 0, 1);

  it.each([
    ["1960-06-15", index, 63],
    ["1960-01-01", index, 64],
    ["1960-01-02", index, 63],
    ["1960", index, 64],
    ["2000-02-29", Date.UTC(2024, 1, 28), 23],
    ["2000-02-29", Date.UTC(2024, 1, 29), 24],
    ["2000-02-29", Date.UTC(2023, 2, 1), 23],
    ["2030-06-01", index, -7],
  ])("%s at %d is %d completed years", (birth, at, expected) => {
    expect(ageInYears(birth, at)).toBe(expected);
  });

  it("is NaN for a birth date that is not a date", () => {
    expect(ageInYears("1960-13-01", index)).toBeNaN();
  });
});
