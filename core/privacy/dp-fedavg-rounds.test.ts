import { describe, expect, it } from "vitest";
import { dpFedAvgRounds } from "./dp-fedavg-rounds.ts";
import { privacySpent } from "./privacy-spent.ts";

describe("dpFedAvgRounds", () => {
  it("is the sampled Gaussian with q = sites per round / sites and one step per round", () => {
    // Execute
    const entry = dpFedAvgRounds({ sites: 40, sitesPerRound: 8, noiseMultiplier: 1.2, rounds: 150 });

    // Assert
    expect(entry).toEqual({ q: 0.2, sigma: 1.2, steps: 150 });
    expect(privacySpent([entry], { delta: 1e-3 })).toEqual(privacySpent([{ q: 0.2, sigma: 1.2, steps: 150 }], { delta: 1e-3 }));
  });

  it.each([
    [{ sites: 0, sitesPerRound: 1, noiseMultiplier: 1, rounds: 1 }, "sites must be a positive integer, got 0"],
    [{ sites: 10.5, sitesPerRound: 1, noiseMultiplier: 1, rounds: 1 }, "sites must be a positive integer, got 10.5"],
    [{ sites: 10, sitesPerRound: 0, noiseMultiplier: 1, rounds: 1 }, "sites per round must be in (0, 10], got 0"],
    [{ sites: 10, sitesPerRound: 11, noiseMultiplier: 1, rounds: 1 }, "sites per round must be in (0, 10], got 11"],
    [{ sites: 10, sitesPerRound: 5, noiseMultiplier: 0, rounds: 1 }, "noise multiplier sigma must be positive and finite, got 0"],
    [{ sites: 10, sitesPerRound: 5, noiseMultiplier: 1, rounds: -3 }, "steps must be a non-negative integer, got -3"],
  ])("rejects %j", (settings, message) => {
    // Execute
    const call = () => dpFedAvgRounds(settings);

    // Assert
    expect(call).toThrow(expect.objectContaining({ name: "ConfigError", code: "INVALID_CONFIG", message }));
  });
});
