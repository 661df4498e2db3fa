import { describe, expect, it } from "vitest";
import { AsyncPolicy } from "./async-policy.ts";
import { stalenessWeight } from "./staleness-weight.ts";

describe("stalenessWeight known answers", () => {
  it.each([0, 1, 7, 1000])("weights every update 1 under constant, at staleness %i", (s) => {
    expect(stalenessWeight(s, { kind: "constant" })).toBe(1);
  });

  it.each([
    [0, 0.5, 1],
    [3, 0.5, 0.5],
    [8, 0.5, 1 / 3],
    [4, 1, 0.2],
    [1, 2, 0.25],
  ])("is (1 + s)^-a under polynomial, s = %i, a = %f", (s, a, expected) => {
    expect(stalenessWeight(s, { kind: "polynomial", a })).toBeCloseTo(expected, 12);
  });

  it.each([
    [0, 1],
    [4, 1],
    [5, 1 / 11],
    [6, 1 / 21],
  ])("is 1 up to b, then 1 / (a(s − b) + 1) under hinge a = 10, b = 4 (FedAsync's), s = %i", (s, expected) => {
    expect(stalenessWeight(s, { kind: "hinge", a: 10, b: 4 })).toBeCloseTo(expected, 12);
  });

  it("refuses a negative staleness with an exact message", () => {
    expect(() => stalenessWeight(-1, { kind: "constant" })).toThrow("staleness must be a finite number ≥ 0, got -1");
  });
});

describe("AsyncPolicy", () => {
  it("defaults to polynomial weighting with FedBuff's a = 0.5", () => {
    expect(AsyncPolicy.parse({ bufferSize: 3, maxStaleness: 5 })).toEqual({ bufferSize: 3, maxStaleness: 5, weighting: { kind: "polynomial", a: 0.5 } });
    expect(AsyncPolicy.parse({ bufferSize: 3, maxStaleness: 5, weighting: { kind: "polynomial" } }).weighting).toEqual({ kind: "polynomial", a: 0.5 });
  });

  it("accepts hinge weighting", () => {
    expect(AsyncPolicy.parse({ bufferSize: 1, maxStaleness: 0, weighting: { kind: "hinge", a: 10, b: 4 } }).weighting).toEqual({ kind: "hinge", a: 10, b: 4 });
  });

  it.each([
    ["a buffer of 0", { bufferSize: 0, maxStaleness: 5 }],
    ["a fractional buffer size", { bufferSize: 2.5, maxStaleness: 5 }],
    ["a negative staleness bound", { bufferSize: 2, maxStaleness: -1 }],
    ["an unknown weighting", { bufferSize: 2, maxStaleness: 5, weighting: { kind: "exponential" } }],
    ["a hinge without b", { bufferSize: 2, maxStaleness: 5, weighting: { kind: "hinge", a: 10 } }],
  ])("refuses %s", (_, input) => {
    expect(AsyncPolicy.safeParse(input).success).toBe(false);
  });
});
