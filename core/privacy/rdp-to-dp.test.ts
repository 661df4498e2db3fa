import { describe, expect, it } from "vitest";
import { rdpToDp } from "./rdp-to-dp.ts";

const TWO_TO_32 = Array.from({ length: 31 }, (_, i) => i + 2);

describe("rdpToDp", () => {
  it("takes the largest order for a constant RDP (pure DP), with TensorFlow Privacy's value", () => {
    // Execute
    const spent = rdpToDp(new Float64Array(31).fill(1.1), TWO_TO_32, 1e-5);

    // Assert
    expect(spent.order).toBe(32);
    expect(spent.epsilon).toBeCloseTo(1.32783806176, 10);
  });

  it("applies rdp + log1p(−1/α) − (log δ + log α) / (α − 1) at the best order", () => {
    // Prepare: the Gaussian mechanism with sigma = 5, 10 steps: RDP 10 α / 50.
    const rdp = TWO_TO_32.map((order) => order / 5);

    // Execute
    const spent = rdpToDp(rdp, TWO_TO_32, 1e-5);

    // Assert
    const at = (a: number) => a / 5 + Math.log1p(-1 / a) - (Math.log(1e-5) + Math.log(a)) / (a - 1);
    expect(spent.epsilon).toBe(Math.min(...TWO_TO_32.map(at)));
    expect(spent.epsilon).toBe(at(spent.order));
  });

  it("gives 0 where the RDP bounds the total variation below delta, and Infinity for infinite RDP", () => {
    // Execute
    const tiny = rdpToDp([1e-12, 1e-11], [2, 3], 1e-5);
    const infinite = rdpToDp([Infinity, Infinity], [2, 3], 1e-5);

    // Assert
    expect(tiny).toEqual({ epsilon: 0, order: 2 });
    expect(infinite).toEqual({ epsilon: Infinity, order: 2 });
  });

  it.each([
    [[1], [2], 0, "delta must be in (0, 1), got 0"],
    [[1], [2], 1, "delta must be in (0, 1), got 1"],
    [[1], [2], -1e-5, "delta must be in (0, 1), got -0.00001"],
    [[1, 2], [2], 1e-5, "got 2 RDP values for 1 orders"],
    [[1], [1], 1e-5, "RDP orders must be finite and above 1, got 1"],
    [[-1], [2], 1e-5, "RDP values must be non-negative, got -1 at order 2"],
    [[Number.NaN], [2], 1e-5, "RDP values must be non-negative, got NaN at order 2"],
    [[], [], 1e-5, "at least one RDP order is needed"],
  ])("rejects rdp %j at orders %j with delta %s", (rdp, orders, delta, message) => {
    // Execute
    const call = () => rdpToDp(rdp, orders, delta);

    // Assert
    expect(call).toThrow(expect.objectContaining({ name: "ConfigError", code: "INVALID_CONFIG", message }));
  });
});
