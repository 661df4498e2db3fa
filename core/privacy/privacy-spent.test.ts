import { describe, expect, it } from "vitest";
import { composeRdp } from "./compose-rdp.ts";
import { privacySpent } from "./privacy-spent.ts";
import { rdpToDp } from "./rdp-to-dp.ts";

const TWO_TO_32 = Array.from({ length: 31 }, (_, i) => i + 2);

describe("privacySpent", () => {
  it("reproduces the known answer: (1e-5, 1, 10 steps) then (1e-4, 3, 4 steps) give epsilon 0.336 at order 23", () => {
    // Prepare
    const ledger = [
      { q: 1e-5, sigma: 1, steps: 10 },
      { q: 1e-4, sigma: 3, steps: 4 },
    ];

    // Execute
    const spent = privacySpent(ledger, { delta: 1e-5, orders: TWO_TO_32 });

    // Assert
    expect(spent.order).toBe(23);
    expect(Math.abs(spent.epsilon / 0.336 - 1)).toBeLessThan(0.005);
    expect(spent.epsilon).toBeCloseTo(0.336344, 6);
  });

  it("is the composed RDP converted once", () => {
    // Prepare
    const ledger = [
      { q: 0.01, sigma: 1.1, steps: 500 },
      { q: 0.02, sigma: 1.5, steps: 300 },
    ];

    // Execute
    const spent = privacySpent(ledger, { delta: 1e-6 });

    // Assert
    expect(spent).toEqual(rdpToDp(composeRdp(ledger), [...Array.from({ length: 63 }, (_, i) => i + 2), 80, 96, 128, 256], 1e-6));
  });

  it("has the Gaussian mechanism's closed form at q = 1", () => {
    // Prepare: RDP of 100 steps at sigma = 20 is 100 α / 800.
    const at = (a: number) => a / 8 + Math.log1p(-1 / a) - (Math.log(1e-5) + Math.log(a)) / (a - 1);

    // Execute
    const spent = privacySpent([{ q: 1, sigma: 20, steps: 100 }], { delta: 1e-5, orders: TWO_TO_32 });

    // Assert
    expect(spent.epsilon).toBeCloseTo(Math.min(...TWO_TO_32.map(at)), 12);
    expect(spent.epsilon).toBeCloseTo(at(spent.order), 12);
  });

  it("spends nothing at q = 0 or without steps", () => {
    // Execute
    const none = privacySpent([{ q: 0, sigma: 1, steps: 1000 }], { delta: 1e-5 });
    const empty = privacySpent([], { delta: 1e-5 });

    // Assert
    expect(none.epsilon).toBe(0);
    expect(empty.epsilon).toBe(0);
  });

  it("grows with steps and q, and falls with sigma", () => {
    // Prepare
    const eps = (q: number, sigma: number, steps: number) => privacySpent([{ q, sigma, steps }], { delta: 1e-5 }).epsilon;

    // Execute
    const bySteps = [10, 100, 1000, 10_000].map((steps) => eps(0.01, 1.1, steps));
    const byQ = [0.001, 0.01, 0.1, 1].map((q) => eps(q, 1.1, 100));
    const bySigma = [0.7, 1, 2, 5, 20].map((sigma) => eps(0.01, sigma, 1000));

    // Assert
    for (let i = 1; i < bySteps.length; i++) expect(bySteps[i]).toBeGreaterThan(bySteps[i - 1]!);
    for (let i = 1; i < byQ.length; i++) expect(byQ[i]).toBeGreaterThan(byQ[i - 1]!);
    for (let i = 1; i < bySigma.length; i++) expect(bySigma[i]).toBeLessThan(bySigma[i - 1]!);
  });

  it.each([
    [0, "delta must be in (0, 1), got 0"],
    [1, "delta must be in (0, 1), got 1"],
    [Number.NaN, "delta must be in (0, 1), got NaN"],
  ])("rejects delta %s", (delta, message) => {
    // Execute
    const call = () => privacySpent([{ q: 0.01, sigma: 1, steps: 1 }], { delta });

    // Assert
    expect(call).toThrow(expect.objectContaining({ name: "ConfigError", code: "INVALID_CONFIG", message }));
  });

  it.each([
    [{ q: -0.01, sigma: 1, steps: 1 }, "sampling rate q must be in [0, 1], got -0.01"],
    [{ q: 1.01, sigma: 1, steps: 1 }, "sampling rate q must be in [0, 1], got 1.01"],
    [{ q: 0.01, sigma: 0, steps: 1 }, "noise multiplier sigma must be positive and finite, got 0"],
    [{ q: 0.01, sigma: -2, steps: 1 }, "noise multiplier sigma must be positive and finite, got -2"],
    [{ q: 0.01, sigma: 1, steps: 10.5 }, "steps must be a non-negative integer, got 10.5"],
    [{ q: 0.01, sigma: 1, steps: Number.NaN }, "steps must be a non-negative integer, got NaN"],
  ])("rejects the entry %j", (entry, message) => {
    // Execute
    const call = () => privacySpent([entry], { delta: 1e-5 });

    // Assert
    expect(call).toThrow(expect.objectContaining({ name: "ConfigError", code: "INVALID_CONFIG", message }));
  });
});
