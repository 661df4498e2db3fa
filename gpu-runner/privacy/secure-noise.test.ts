import { afterEach, describe, expect, it, vi } from "vitest";
import { secureNormal, secureUniform } from "./secure-noise.ts";

const moments = (xs: Float64Array) => {
  const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
  const variance = xs.reduce((s, v) => s + (v - mean) ** 2, 0) / (xs.length - 1);
  return { mean, variance };
};

describe("secure noise", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("draws standard normals: mean 0, variance 1 and 5% beyond ±1.96 over 100,000 draws", () => {
    // Prepare: standard errors 0.0032 (mean), 0.0045 (variance), 0.0007 (tail share).
    const n = 100_000;

    // Execute
    const xs = Float64Array.from({ length: n }, secureNormal);

    // Assert
    const { mean, variance } = moments(xs);
    expect(Math.abs(mean)).toBeLessThan(0.016);
    expect(Math.abs(variance - 1)).toBeLessThan(0.023);
    expect(Math.abs(xs.filter((x) => Math.abs(x) > 1.959964).length / n - 0.05)).toBeLessThan(0.0035);
    expect(new Set(xs).size).toBe(n);
  });

  it("draws uniforms in [0, 1): mean 1/2, variance 1/12", () => {
    // Prepare
    const n = 100_000;

    // Execute
    const xs = Float64Array.from({ length: n }, secureUniform);

    // Assert
    const { mean, variance } = moments(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.0015);
  });

  it("never calls Math.random", () => {
    // Prepare: enough draws to refill both pools several times.
    vi.spyOn(Math, "random").mockImplementation(() => {
      throw new Error("Math.random called");
    });

    // Execute
    const draw = () => {
      for (let i = 0; i < 50_000; i++) secureNormal() + secureUniform();
    };

    // Assert
    expect(draw).not.toThrow();
  });
});
