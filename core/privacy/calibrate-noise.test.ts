import { describe, expect, it } from "vitest";
import { calibrateNoise, DEFAULT_SIGMA_TOLERANCE } from "./calibrate-noise.ts";
import { privacySpent } from "./privacy-spent.ts";

describe("calibrateNoise", () => {
  it.each([
    [0.01, 1000, 1, 1e-5],
    [0.004, 10_000, 3, 1e-5],
    [0.1, 200, 2, 1e-5], // DP-FedAvg: 10 of 100 sites per round
    [1, 50, 8, 1e-6], // full batch
    [1e-4, 20, 0.5, 1e-5], // below sigma = 1: found by halving
  ])("inverts the accountant at q = %f, %i steps, epsilon %f, delta %f", (q, steps, epsilon, delta) => {
    // Execute
    const sigma = calibrateNoise({ q, steps, epsilon, delta });

    // Assert: the target is met, within tolerance of it, and a slightly smaller sigma misses it.
    const spent = (s: number) => privacySpent([{ q, sigma: s, steps }], { delta }).epsilon;
    expect(spent(sigma)).toBeLessThanOrEqual(epsilon);
    expect(spent(sigma)).toBeGreaterThan(epsilon * (1 - 1e-4));
    expect(spent(sigma * (1 - DEFAULT_SIGMA_TOLERANCE))).toBeGreaterThan(epsilon);
  });

  it("counts what a site has already spent against the target", () => {
    // Prepare
    const spent = [{ q: 0.02, sigma: 1.2, steps: 300 }];

    // Execute
    const fresh = calibrateNoise({ q: 0.01, steps: 500, epsilon: 2, delta: 1e-5 });
    const after = calibrateNoise({ q: 0.01, steps: 500, epsilon: 2, delta: 1e-5, spent });

    // Assert
    expect(after).toBeGreaterThan(fresh);
    const total = privacySpent([...spent, { q: 0.01, sigma: after, steps: 500 }], { delta: 1e-5 }).epsilon;
    expect(total).toBeLessThanOrEqual(2);
    expect(total).toBeGreaterThan(2 * (1 - 1e-4));
  });

  it("stops at the asked tolerance", () => {
    // Execute
    const coarse = calibrateNoise({ q: 0.01, steps: 1000, epsilon: 1, delta: 1e-5, tolerance: 1e-2 });
    const fine = calibrateNoise({ q: 0.01, steps: 1000, epsilon: 1, delta: 1e-5 });

    // Assert
    expect(coarse).toBeGreaterThanOrEqual(fine);
    expect(coarse).toBeLessThanOrEqual(fine * (1 + 1e-2));
  });

  it("fails clearly when even the largest sigma misses the target", () => {
    // Prepare: at delta = 1e-10 and orders up to 256, the conversion alone costs about 0.065.
    const target = { q: 0.01, steps: 1000, epsilon: 0.01, delta: 1e-10 };

    // Execute
    const call = () => calibrateNoise(target);

    // Assert
    expect(call).toThrow(expect.objectContaining({ name: "ConfigError", code: "INVALID_CONFIG" }));
    expect(call).toThrow(/^target epsilon 0.01 at delta 1e-10 is out of reach: even sigma = 10000 spends epsilon 0.06\d+ over 1000 steps at q = 0.01$/);
  });

  it.each([
    [{ q: 0, steps: 10, epsilon: 1, delta: 1e-5 }, "calibration needs q in (0, 1] and at least one step, got q = 0 and 10 steps"],
    [{ q: 0.1, steps: 0, epsilon: 1, delta: 1e-5 }, "calibration needs q in (0, 1] and at least one step, got q = 0.1 and 0 steps"],
    [{ q: 1.2, steps: 10, epsilon: 1, delta: 1e-5 }, "sampling rate q must be in [0, 1], got 1.2"],
    [{ q: 0.1, steps: 1.5, epsilon: 1, delta: 1e-5 }, "steps must be a non-negative integer, got 1.5"],
    [{ q: 0.1, steps: 10, epsilon: 0, delta: 1e-5 }, "target epsilon must be positive and finite, got 0"],
    [{ q: 0.1, steps: 10, epsilon: Infinity, delta: 1e-5 }, "target epsilon must be positive and finite, got Infinity"],
    [{ q: 0.1, steps: 10, epsilon: 1, delta: 2 }, "delta must be in (0, 1), got 2"],
    [{ q: 0.1, steps: 10, epsilon: 1, delta: 1e-5, maxSigma: -1 }, "maxSigma must be positive and finite, got -1"],
    [{ q: 0.1, steps: 10, epsilon: 1, delta: 1e-5, tolerance: 0 }, "tolerance must be in (0, 1), got 0"],
    [{ q: 0.1, steps: 10, epsilon: 1, delta: 1e-5, orders: [2, 3.5] }, "RDP orders must be integers from 2 to 10000, got 3.5"],
  ])("rejects %j", (target, message) => {
    // Execute
    const call = () => calibrateNoise(target);

    // Assert
    expect(call).toThrow(expect.objectContaining({ name: "ConfigError", code: "INVALID_CONFIG", message }));
  });
});
