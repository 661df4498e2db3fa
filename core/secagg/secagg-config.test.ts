import { describe, expect, it } from "vitest";
import { SecAggConfig, sessionId } from "./secagg-config.ts";

const valid = {
  round: 3,
  roundSeed: "ab".repeat(32),
  sites: 100,
  neighbours: 66,
  threshold: 28,
  length: 1000,
  quantisation: { clipNorm: 1, maxSummands: 100 },
};

const issues = (input: unknown) => SecAggConfig.safeParse(input).error?.issues.map((i) => i.message);

describe("SecAggConfig", () => {
  it("accepts a sparse and a complete graph", () => {
    // Execute / Assert
    expect(SecAggConfig.parse(valid).quantisation.rounding).toBe("stochastic");
    expect(SecAggConfig.safeParse({ ...valid, sites: 10, neighbours: 9, threshold: 5, quantisation: { clipNorm: 1, maxSummands: 10 } }).success).toBe(true);
  });

  it("rejects parameters the protocol cannot run with", () => {
    // Execute / Assert
    expect(issues({ ...valid, neighbours: 65 })).toEqual(["a sparse neighbour graph needs an even degree, got 65"]);
    expect(issues({ ...valid, neighbours: 100 })).toEqual(["100 sites have at most 99 neighbours each, got 100"]);
    expect(issues({ ...valid, threshold: 67 })).toEqual(["threshold 67 exceeds the 66 neighbours that hold shares"]);
    expect(issues({ ...valid, quantisation: { clipNorm: 1, maxSummands: 99 } })).toEqual(["the quantisation must leave room for all 100 sites, got maxSummands 99"]);
    expect(SecAggConfig.safeParse({ ...valid, roundSeed: "ab" }).success).toBe(false);
  });
});

describe("sessionId", () => {
  it("changes with any field of the config", () => {
    // Prepare
    const base = SecAggConfig.parse(valid);

    // Execute
    const ids = [base, { ...base, round: 4 }, { ...base, threshold: 27 }, { ...base, quantisation: { ...base.quantisation, clipNorm: 2 } }].map(sessionId);

    // Assert
    expect(new Set(ids).size).toBe(4);
    expect(sessionId(SecAggConfig.parse(valid))).toBe(ids[0]);
    expect(ids[0]).toMatch(/^[0-9a-f]{64}$/);
  });
});
