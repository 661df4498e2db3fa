import { describe, expect, it } from "vitest";
import { statsHash } from "./stats-hash.ts";

const stats = () => ({
  rows: 120,
  positives: 50,
  features: {
    age: { kind: "numeric" as const, count: 118, mean: 54.2, m2: 9000, missing: 2 },
    cp: { kind: "categorical" as const, counts: { "1": 60, "2": 60 }, missing: 0 },
  },
});

describe("statsHash", () => {
  it("does not change with the order of features or levels", () => {
    // Prepare
    const s = stats();
    const reordered = { features: { cp: { missing: 0, counts: { "2": 60, "1": 60 }, kind: "categorical" as const }, age: s.features.age }, positives: 50, rows: 120 };

    // Execute / Assert
    expect(statsHash(reordered)).toBe(statsHash(s));
    expect(statsHash(s)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("changes with any count", () => {
    // Prepare
    const s = stats();

    // Execute / Assert
    expect(statsHash({ ...s, rows: 121 })).not.toBe(statsHash(s));
    expect(statsHash({ ...s, features: { ...s.features, cp: { ...s.features.cp, counts: { "1": 61, "2": 59 } } } })).not.toBe(statsHash(s));
  });
});
