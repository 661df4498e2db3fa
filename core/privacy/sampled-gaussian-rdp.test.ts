import { describe, expect, it } from "vitest";
import { sampledGaussianRdp } from "./sampled-gaussian-rdp.ts";

/** The paper's sum taken literally in floating point: fine while its terms neither overflow nor cancel. */
function literalRdp(q: number, sigma: number, order: number): number {
  let a = 0;
  let binomial = 1;
  for (let k = 0; k <= order; k++) {
    a += binomial * (1 - q) ** (order - k) * q ** k * Math.exp((k * k - k) / (2 * sigma * sigma));
    binomial = (binomial * (order - k)) / (k + 1);
  }
  return Math.log(a) / (order - 1);
}

describe("sampledGaussianRdp", () => {
  it.each([
    [0.1, 2, 2],
    [0.1, 2, 7],
    [0.3, 1, 12],
    [0.05, 0.8, 20],
  ])("matches the literal sum at q = %f, sigma = %f, order %i", (q, sigma, order) => {
    // Execute
    const rdp = sampledGaussianRdp(q, sigma, order);

    // Assert
    expect(rdp / literalRdp(q, sigma, order)).toBeCloseTo(1, 10);
  });

  it.each([
    [2, 1],
    [23, 3],
    [256, 0.7],
  ])("is the Gaussian mechanism's order / (2 sigma²) at q = 1 (order %i, sigma %f)", (order, sigma) => {
    // Execute
    const rdp = sampledGaussianRdp(1, sigma, order);

    // Assert
    expect(rdp).toBe(order / (2 * sigma * sigma));
  });

  it("is 0 at q = 0", () => {
    // Execute
    const values = [2, 32, 256].map((order) => sampledGaussianRdp(0, 1, order));

    // Assert
    expect(values).toEqual([0, 0, 0]);
  });

  it("keeps full precision for tiny q, where A − 1 ≈ C(order, 2) q² (e^{1/sigma²} − 1)", () => {
    // Prepare: the next term is smaller by a factor of about q, so the leading term is exact to 1e-7.
    const q = 1e-8;
    const order = 10;
    const leading = (((order * (order - 1)) / 2) * q * q * Math.expm1(1)) / (order - 1);

    // Execute
    const rdp = sampledGaussianRdp(q, 1, order);

    // Assert
    expect(rdp / leading).toBeCloseTo(1, 6);
  });

  it("stays finite where the literal sum overflows", () => {
    // Execute
    const rdp = sampledGaussianRdp(0.01, 0.5, 256);

    // Assert: the k = 256 term dominates, log of it is 256 log 0.01 + 256 × 255 / 0.5.
    expect(Number.isFinite(literalRdp(0.01, 0.5, 256))).toBe(false);
    expect(rdp).toBeCloseTo((256 * Math.log(0.01) + (256 * 255) / 0.5) / 255, 6);
  });

  it("grows with q and with the order, and falls with sigma", () => {
    // Execute
    const byQ = [1e-4, 1e-3, 0.01, 0.1, 0.5, 1].map((q) => sampledGaussianRdp(q, 1.5, 16));
    const byOrder = [2, 3, 8, 32, 256].map((order) => sampledGaussianRdp(0.02, 1.5, order));
    const bySigma = [0.5, 1, 2, 4, 8].map((sigma) => sampledGaussianRdp(0.02, sigma, 16));

    // Assert
    for (let i = 1; i < byQ.length; i++) expect(byQ[i]).toBeGreaterThan(byQ[i - 1]!);
    for (let i = 1; i < byOrder.length; i++) expect(byOrder[i]).toBeGreaterThan(byOrder[i - 1]!);
    for (let i = 1; i < bySigma.length; i++) expect(bySigma[i]).toBeLessThan(bySigma[i - 1]!);
  });

  it.each([
    [-0.1, 1, 2, "sampling rate q must be in [0, 1], got -0.1"],
    [1.5, 1, 2, "sampling rate q must be in [0, 1], got 1.5"],
    [Number.NaN, 1, 2, "sampling rate q must be in [0, 1], got NaN"],
    [0.1, 0, 2, "noise multiplier sigma must be positive and finite, got 0"],
    [0.1, -1, 2, "noise multiplier sigma must be positive and finite, got -1"],
    [0.1, Infinity, 2, "noise multiplier sigma must be positive and finite, got Infinity"],
    [0.1, 1, 1, "RDP orders must be integers from 2 to 10000, got 1"],
    [0.1, 1, 2.5, "RDP orders must be integers from 2 to 10000, got 2.5"],
    [0.1, 1, 20_000, "RDP orders must be integers from 2 to 10000, got 20000"],
  ])("rejects q = %s, sigma = %s, order %s", (q, sigma, order, message) => {
    // Execute
    const call = () => sampledGaussianRdp(q, sigma, order);

    // Assert
    expect(call).toThrow(expect.objectContaining({ name: "ConfigError", code: "INVALID_CONFIG", message }));
  });
});
