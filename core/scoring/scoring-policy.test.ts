import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { applyReputation, initialReputation, Reputation, weightFactor } from "./reputation.ts";
import type { SiteScore } from "./score-updates.ts";
import { createScoringPolicy } from "./scoring-policy.ts";

const score = (siteId: string, alignment: number, norm = 1): SiteScore => ({ siteId, distance: 1, agreement: alignment, alignment, norm });

describe("createScoringPolicy", () => {
  it("quarantines a site pointing away from a coherent cohort at once, and down-weights it after its quarantine", () => {
    // Prepare
    const policy = createScoringPolicy();

    // Execute
    const first = policy.decide(initialReputation, 1, { coherence: 0.8, scores: [score("x", -0.4), score("h", 0.8)] });
    const later = policy.decide(first.state, 7, { coherence: 0.2, scores: [score("x", 0.9), score("h", -0.5)] });

    // Assert
    expect(first.decisions).toEqual([
      { siteId: "x", action: "quarantine", factor: 0, reason: "alignment -0.4 with the cohort (coherence 0.8) in round 1; reputation 0.5 < 0.6: quarantined until round 6" },
      { siteId: "h", action: "keep", factor: 1, reason: "scores within bounds in round 1 (coherence 0.8); reputation 1" },
    ]);
    expect([2, 6, 7].map((r) => weightFactor(first.state, "x", r))).toEqual([0, 0, 0.5]);
    expect(later.decisions).toEqual([
      { siteId: "x", action: "down-weight", factor: 0.5, reason: "round 7 uninformative (coherence 0.2 below 0.64), norm within bounds; reputation 0.5: weight × 0.5" },
      { siteId: "h", action: "keep", factor: 1, reason: "round 7 uninformative (coherence 0.2 below 0.64), norm within bounds; reputation 1" },
    ]);
    expect(Reputation.parse(JSON.parse(JSON.stringify(later.state)))).toEqual({
      round: 7,
      sites: { x: { reputation: 0.5, quarantinedUntil: 6 }, h: { reputation: 1, quarantinedUntil: 0 } },
      directionClosedAt: 7,
      openingCoherence: 0.8,
    });
  });

  it("reads direction and moderate size only in coherent rounds, gross size in every round", () => {
    // Prepare
    const policy = createScoringPolicy();
    const round = (coherence: number | null, s: SiteScore) => policy.decide(initialReputation, 3, { coherence, scores: [s] }).decisions[0]!.action;

    // Execute / Assert
    expect(round(0.49, score("a", -1, 20))).toBe("keep");
    expect(round(null, score("a", -1, 20))).toBe("keep");
    expect(round(0.5, score("a", 0.01))).toBe("keep");
    expect(round(0.5, score("a", -0.01))).toBe("quarantine");
    expect(round(0.5, score("a", 0.9, 4))).toBe("keep");
    expect(round(0.5, score("a", 0.9, 4.01))).toBe("quarantine");
    expect(round(0.1, score("a", 0.9, 25.1))).toBe("quarantine");
  });

  it("holds later rounds to the opening round's coherence", () => {
    // Prepare: round 1 opens at 0.8; round 2 at 0.6 is above minCoherence but below 0.8 × 0.8.
    const policy = createScoringPolicy();
    const first = policy.decide(initialReputation, 1, { coherence: 0.8, scores: [score("h", 0.9)] });

    // Execute
    const second = policy.decide(first.state, 2, { coherence: 0.6, scores: [score("h", 0.05)] });
    const lenient = createScoringPolicy({ keepCoherence: 0.5 }).decide(first.state, 2, { coherence: 0.6, scores: [score("h", 0.05)] });

    // Assert
    expect(first.state.openingCoherence).toBe(0.8);
    expect(second.decisions[0]?.action).toBe("keep");
    expect(second.state.directionClosedAt).toBe(2);
    expect(lenient.decisions[0]?.action).toBe("quarantine");
  });

  it("stops reading direction after the first incoherent round", () => {
    // Prepare
    const policy = createScoringPolicy();

    // Execute
    const quiet = policy.decide(initialReputation, 2, { coherence: 0.3, scores: [score("h", -0.9)] });
    const later = policy.decide(quiet.state, 9, { coherence: 0.8, scores: [score("h", -0.9), score("big", 0.9, 30)] });

    // Assert
    expect(quiet.state.directionClosedAt).toBe(2);
    expect(later.state.directionClosedAt).toBe(2);
    expect(later.decisions.map((d) => [d.siteId, d.action])).toEqual([["h", "keep"], ["big", "quarantine"]]);
    expect(later.decisions[0]?.reason).toBe("round 9: direction uninformative since round 2, norm within bounds; reputation 1");
  });

  it("restores reputation only in informative rounds: coherent ones, or with a validation gain", () => {
    // Prepare
    const policy = createScoringPolicy();
    const state: Reputation = { round: 9, sites: { x: { reputation: 0.5, quarantinedUntil: 6 } } };

    // Execute
    const quiet = policy.decide(state, 10, { coherence: 0.3, scores: [score("x", 0.9)] });
    const validated = policy.decide(quiet.state, 11, { coherence: 0.3, scores: [{ ...score("x", 0.9), gain: 0.01 }] });

    // Assert
    expect(quiet.state.sites.x?.reputation).toBe(0.5);
    expect(validated.state.sites.x?.reputation).toBe(0.75);
    expect(validated.decisions[0]).toMatchObject({ action: "down-weight", reason: "validation gain 1 % within bounds in round 11; reputation 0.75: weight × 0.75" });
  });

  it("flags an update the model is better without on the validation set, in any round", () => {
    // Execute
    const { decisions } = createScoringPolicy().decide({ round: 5, sites: {}, directionClosedAt: 2 }, 6, { coherence: 0.1, scores: [{ ...score("x", 0.9), gain: -0.05 }, { ...score("y", 0.9), gain: -0.01 }] });

    // Assert
    expect(decisions.map((d) => d.action)).toEqual(["quarantine", "keep"]);
    expect(decisions[0]?.reason).toBe("validation loss 5 % lower without it in round 6; reputation 0.5 < 0.6: quarantined until round 11");
  });

  it("keeps a site quarantined until its quarantine ends even when it looks honest again", () => {
    // Prepare
    const state: Reputation = { round: 4, sites: { x: { reputation: 0.25, quarantinedUntil: 7 } } };

    // Execute
    const { decisions, state: next } = createScoringPolicy().decide(state, 5, { coherence: 0.9, scores: [score("x", 0.9)] });

    // Assert
    expect(decisions).toEqual([{ siteId: "x", action: "quarantine", factor: 0, reason: "scores within bounds in round 5 (coherence 0.9); reputation 0.63; still quarantined until round 7" }]);
    expect(next.sites.x).toEqual({ reputation: 0.625, quarantinedUntil: 7 });
  });

  it("takes its thresholds from the options and refuses hyperparameters out of range", () => {
    // Execute
    const strict = createScoringPolicy({ minCoherence: 0.1, maxMisalignment: 0.1 }).decide(initialReputation, 2, { coherence: 0.3, scores: [score("a", 0.15)] });

    // Assert
    expect(strict.decisions[0]?.action).toBe("quarantine");
    expect(() => createScoringPolicy({ ema: 1 })).toThrow(ConfigError);
    expect(() => createScoringPolicy({ quarantineRounds: 0 })).toThrow("scoring: quarantineRounds: Too small: expected number to be >=1");
    expect(() => createScoringPolicy({ maxNorm: 1 })).toThrow("scoring: maxNorm: Too small: expected number to be >1");
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
