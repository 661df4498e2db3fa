import { describe, expect, it } from "vitest";
import { SiteStats } from "./site-stats.ts";
import { issuesOf } from "../../test/support/schemas.ts";

const stats = () => ({
  rows: 120,
  positives: 50,
  features: {
    age: { kind: "numeric", count: 118, mean: 54.2, m2: 9772.4, missing: 2 },
    cp: { kind: "categorical", counts: { "1": 30, "2": 90 }, missing: 0 },
  },
});

describe("SiteStats", () => {
  it("parses a site's statistics", () => {
    // Execute and Assert
    expect(SiteStats.parse(stats())).toEqual(stats());
  });

  it.each([
    ["a negative M2", { age: { ...stats().features.age, m2: -1 } }, [["features.age.m2", "Too small: expected number to be >=0"]]],
    ["a fractional level count", { cp: { ...stats().features.cp, counts: { "1": 2.5 } } }, [["features.cp.counts.1", "Invalid input: expected int, received number"]]],
    ["an unknown kind", { cp: { kind: "ordinal", counts: {}, missing: 0 } }, [["features.cp.kind", "Invalid discriminator value. Expected 'numeric' | 'categorical'"]]],
  ])("rejects %s", (_, features, expected) => {
    // Execute and Assert
    expect(issuesOf(SiteStats, { ...stats(), features: { ...stats().features, ...features } })).toEqual(expected);
  });

  it("refuses a feature named __proto__, constructor or prototype, which no spec can name (zod alone would drop __proto__ without a word)", () => {
    // Prepare: JSON.parse makes "__proto__" an own key, as a request body would.
    const named = (name: string) => JSON.parse(`{"rows":120,"positives":50,"features":{"${name}":${JSON.stringify(stats().features.age)}}}`);
    // Execute and Assert
    for (const name of ["__proto__", "constructor", "prototype"]) expect(issuesOf(SiteStats, named(name))).toEqual([[`features.${name}`, `"${name}" is a reserved key`]]);
  });

  it("refuses a level named __proto__, and keeps levels named constructor or toString", () => {
    // Prepare
    const levels = (counts: string) => JSON.parse(`{"rows":3,"positives":1,"features":{"cp":{"kind":"categorical","counts":${counts},"missing":0}}}`);
    // Execute and Assert
    expect(issuesOf(SiteStats, levels('{"__proto__":1,"2":2}'))).toEqual([["features.cp.counts.__proto__", '"__proto__" is a reserved key']]);
    expect(SiteStats.parse(levels('{"constructor":1,"toString":2}')).features.cp).toEqual({ kind: "categorical", counts: { constructor: 1, toString: 2 }, missing: 0 });
  });

  it("rejects a negative row count", () => {
    // Execute and Assert
    expect(issuesOf(SiteStats, { ...stats(), rows: -1 })).toEqual([["rows", "Too small: expected number to be >=0"]]);
  });
});
