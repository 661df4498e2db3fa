import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { applyReputation, initialReputation, Reputation, weightFactor } from "./reputation.ts";
import { createScoringPolicy } from "./scoring-policy.ts";

describe("createScoringPolicy", () => {
  it("down-weights a site flagged once and quarantines it when flagged again", () => {
    // Prepare
    const policy = createScoringPolicy();

    // Execute
    const first = policy.decide(initialReputation, 3, [{ siteId: "x", distance: 2, agreement: -0.5 }]);
    const second = policy.decide(first.state, 4, [{ siteId: "x", distance: 9.1, agreement: 0.3 }]);

    // Assert
    expect(first.decisions).toEqual([{ siteId: "x", action: "down-weight", factor: 0.5, reason: "agreement -0.5 with the aggregate in round 3; reputation 0.5: weight × 0.5" }]);
    expect(second.decisions).toEqual([
      { siteId: "x", action: "quarantine", factor: 0, reason: "distance 9.1× the median in round 4; reputation 0.25 < 0.5: quarantined until round 7" },
    ]);
    expect(Reputation.parse(JSON.parse(JSON.stringify(second.state)))).toEqual({ round: 4, sites: { x: { reputation: 0.25, quarantinedUntil: 7 } } });
    expect([5, 6, 7, 8].map((r) => weightFactor(second.state, "x", r))).toEqual([0, 0, 0, 0.25]);
  });

  it("keeps a site whose scores stay within bounds, and a site it has never seen has factor 1", () => {
    // Execute
    const { state, decisions } = createScoringPolicy().decide(initialReputation, 1, [{ siteId: "a", distance: 4, agreement: -0.2 }]);

    // Assert
    expect(decisions).toEqual([{ siteId: "a", action: "keep", factor: 1, reason: "scores within bounds in round 1; reputation 1" }]);
    expect(weightFactor(state, "a", 2)).toBe(1);
    expect(weightFactor(state, "new", 2)).toBe(1);
  });

  it("keeps a site quarantined until its quarantine ends even when it looks honest again", () => {
    // Prepare
    const state: Reputation = { round: 4, sites: { x: { reputation: 0.25, quarantinedUntil: 7 } } };

    // Execute
    const { decisions, state: next } = createScoringPolicy().decide(state, 5, [{ siteId: "x", distance: 1, agreement: 0.9 }]);

    // Assert
    expect(decisions).toEqual([{ siteId: "x", action: "quarantine", factor: 0, reason: "scores within bounds in round 5; reputation 0.63; still quarantined until round 7" }]);
    expect(next.sites.x).toEqual({ reputation: 0.625, quarantinedUntil: 7 });
  });

  it("refuses hyperparameters out of range with INVALID_CONFIG", () => {
    // Execute / Assert
    expect(() => createScoringPolicy({ ema: 1 })).toThrow(ConfigError);
    expect(() => createScoringPolicy({ quarantineRounds: 0 })).toThrow("scoring: quarantineRounds: Too small: expected number to be >=1");
  });
});

describe("applyReputation", () => {
  it("leaves out quarantined sites and scales the weight of down-weighted ones", () => {
    // Prepare
    const state: Reputation = { round: 2, sites: { q: { reputation: 0.25, quarantinedUntil: 5 }, d: { reputation: 0.75, quarantinedUntil: 0 } } };
    const updates = ["q", "d", "k"].map((siteId) => ({ siteId, delta: Float32Array.of(1), weight: 4 }));

    // Execute
    const { kept, excluded } = applyReputation(state, updates, 3);

    // Assert
    expect(excluded).toEqual(["q"]);
    expect(kept.map((u) => [u.siteId, u.weight])).toEqual([["d", 3], ["k", 4]]);
  });
});
